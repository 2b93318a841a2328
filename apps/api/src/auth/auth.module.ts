import { Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard.js';
import { TenantGuard } from './tenant.guard.js';
import { TenantAuthenticator } from './tenant-authenticator.service.js';

@Module({
  providers: [TenantAuthenticator, TenantGuard, AdminGuard],
  exports: [TenantAuthenticator, TenantGuard, AdminGuard],
})
export class AuthModule {}
