import { type DynamicModule, Module } from '@nestjs/common';
import {
  BindingRepository,
  EventRepository,
  InvocationRepository,
  PluginVersionRepository,
  TenantQuotaRepository,
  TenantRepository,
  WebhookRepository,
} from '@airlock/db';
import { ArtifactCache, InvocationRunner, PolicyResolver, WebhookSender } from '@airlock/execution';
import { createWebhookQueue, enqueueDeliveries, TenantQuotaGateRepository, WorkerRegistryRepository } from '@airlock/queue';
import type { Redis } from 'ioredis';
import { WorkerHeartbeatService } from './heartbeat/worker-heartbeat.service.js';
import { InvocationsProcessor } from './invocations/invocations.processor.js';
import { WebhooksProcessor } from './invocations/webhooks.processor.js';
import { WORKER_CONFIG, WORKER_PRISMA, WORKER_REDIS, type WorkerDependencies } from './worker-dependencies.js';

@Module({})
export class WorkerModule {
  static register(deps: WorkerDependencies): DynamicModule {
    const { prisma } = deps;
    return {
      module: WorkerModule,
      providers: [
        { provide: WORKER_CONFIG, useValue: deps.config },
        { provide: WORKER_PRISMA, useValue: prisma },
        { provide: WORKER_REDIS, useValue: deps.redis },
        {
          provide: WorkerRegistryRepository,
          useFactory: (redis: Redis) => new WorkerRegistryRepository(redis, deps.config.redisPrefix),
          inject: [WORKER_REDIS],
        },
        {
          provide: InvocationRunner,
          useFactory: (redis: Redis) => {
            const quotas = new TenantQuotaGateRepository(redis, deps.config.redisPrefix);
            const webhooks = new WebhookRepository(prisma);
            const events = new EventRepository(prisma);
            const webhookQueue = createWebhookQueue(redis, deps.config.redisPrefix);
            return new InvocationRunner({
              tenants: new TenantRepository(prisma),
              versions: new PluginVersionRepository(prisma),
              bindings: new BindingRepository(prisma),
              invocations: new InvocationRepository(prisma),
              policies: new PolicyResolver(new TenantQuotaRepository(prisma)),
              secrets: deps.secrets,
              artifacts: new ArtifactCache(),
              sandbox: deps.sandbox,
              onFinished: async (invocation, fuelUsed) => {
                await quotas.settle(invocation.tenantId, fuelUsed);
                const eventType = invocation.eventId === null ? null : await events.typeOf(invocation.tenantId, invocation.eventId);
                const deliveries = await webhooks.planDeliveries(invocation.tenantId, invocation.id, eventType);
                await enqueueDeliveries(webhookQueue, invocation.tenantId, deliveries);
              },
            });
          },
          inject: [WORKER_REDIS],
        },
        {
          provide: WebhookSender,
          useFactory: () => new WebhookSender(new WebhookRepository(prisma), new InvocationRepository(prisma), deps.secrets, deps.webhookHttp),
        },
        WorkerHeartbeatService,
        InvocationsProcessor,
        WebhooksProcessor,
      ],
    };
  }
}
