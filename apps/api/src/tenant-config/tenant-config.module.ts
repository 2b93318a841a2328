import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConfigInvalidationInterceptor } from './config-invalidation.interceptor.js';
import { TenantConfigCache } from './tenant-config-cache.js';

/** The cache of tenants' configuration on the event path, and what keeps it current. */
@Global()
@Module({
  providers: [TenantConfigCache, { provide: APP_INTERCEPTOR, useClass: ConfigInvalidationInterceptor }],
  exports: [TenantConfigCache],
})
export class TenantConfigModule {}
