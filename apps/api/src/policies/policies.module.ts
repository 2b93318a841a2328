import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { QuotasController } from './quotas.controller.js';
import { TenantPolicyService } from './tenant-policy.service.js';

@Module({
  imports: [AuthModule, TenantsModule],
  controllers: [QuotasController],
  providers: [TenantPolicyService],
  exports: [TenantPolicyService],
})
export class PoliciesModule {}
