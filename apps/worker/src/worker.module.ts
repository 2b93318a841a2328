import { type DynamicModule, Module } from '@nestjs/common';
import { BindingRepository, InvocationRepository, PluginVersionRepository, TenantQuotaRepository, TenantRepository } from '@airlock/db';
import { ArtifactCache, InvocationRunner, PolicyResolver } from '@airlock/execution';
import { TenantQuotaGateRepository, WorkerRegistryRepository } from '@airlock/queue';
import type { Redis } from 'ioredis';
import { WorkerHeartbeatService } from './heartbeat/worker-heartbeat.service.js';
import { InvocationsProcessor } from './invocations/invocations.processor.js';
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
            return new InvocationRunner({
              tenants: new TenantRepository(prisma),
              versions: new PluginVersionRepository(prisma),
              bindings: new BindingRepository(prisma),
              invocations: new InvocationRepository(prisma),
              policies: new PolicyResolver(new TenantQuotaRepository(prisma)),
              secrets: deps.secrets,
              artifacts: new ArtifactCache(),
              sandbox: deps.sandbox,
              onFinished: (tenantId, fuelUsed) => quotas.settle(tenantId, fuelUsed),
            });
          },
          inject: [WORKER_REDIS],
        },
        WorkerHeartbeatService,
        InvocationsProcessor,
      ],
    };
  }
}
