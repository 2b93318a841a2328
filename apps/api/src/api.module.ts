import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { ApprovalsModule } from './approvals/approvals.module.js';
import { AuditModule } from './audit/audit.module.js';
import { BindingsModule } from './bindings/bindings.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import type { ApiDependencies } from './infrastructure/api-dependencies.js';
import { InfrastructureModule } from './infrastructure/infrastructure.module.js';
import { MeModule } from './me/me.module.js';
import { PluginsModule } from './plugins/plugins.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { TenantConfigModule } from './tenant-config/tenant-config.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { TracesModule } from './traces/traces.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ValidationModule } from './validation/validation.module.js';
import { VersionsModule } from './versions/versions.module.js';

@Module({})
export class ApiModule {
  static register(deps: ApiDependencies): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        LoggingModule.register(deps.config),
        InfrastructureModule.register(deps),
        TenantConfigModule,
        ValidationModule,
        AuditModule,
        PoliciesModule,
        HealthModule,
        TenantsModule,
        ApiKeysModule,
        MeModule,
        PluginsModule,
        VersionsModule,
        BindingsModule,
        ApprovalsModule,
        EventsModule,
        TracesModule,
        MetricsModule,
      ],
    };
  }
}
