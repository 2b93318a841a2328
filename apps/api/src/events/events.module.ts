import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { InvocationsController } from '../invocations/invocations.controller.js';
import { InvokeService } from '../invocations/invoke.service.js';
import { LogsController } from '../invocations/logs.controller.js';
import { EventStreams } from '../invocations/sse-stream.js';
import { UsageController } from '../invocations/usage.controller.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { WebhooksController } from '../webhooks/webhooks.controller.js';
import { PluginsModule } from '../plugins/plugins.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

@Module({ imports: [AuthModule, PoliciesModule, PluginsModule, TenantsModule], controllers: [EventsController, InvocationsController, LogsController, DeadLettersController, UsageController, WebhooksController], providers: [EventsService, InvokeService, EventStreams] })
export class EventsModule {}
