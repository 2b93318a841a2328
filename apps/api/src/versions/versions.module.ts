import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PluginsModule } from '../plugins/plugins.module.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { VersionTestsRunner } from './version-tests.runner.js';
import { VersionsController } from './versions.controller.js';
import { VersionsService } from './versions.service.js';

@Module({
  imports: [AuthModule, PluginsModule],
  controllers: [VersionsController],
  providers: [VersionsService, VersionTestsRunner, TenantPolicyService],
  exports: [VersionsService],
})
export class VersionsModule {}
