import { type DynamicModule, Module } from '@nestjs/common';
import { WorkerRegistryRepository } from '@airlock/queue';
import type { Redis } from 'ioredis';
import { WorkerHeartbeatService } from './heartbeat/worker-heartbeat.service.js';
import { WORKER_CONFIG, WORKER_PRISMA, WORKER_REDIS, type WorkerDependencies } from './worker-dependencies.js';

@Module({})
export class WorkerModule {
  static register(deps: WorkerDependencies): DynamicModule {
    return {
      module: WorkerModule,
      providers: [
        { provide: WORKER_CONFIG, useValue: deps.config },
        { provide: WORKER_PRISMA, useValue: deps.prisma },
        { provide: WORKER_REDIS, useValue: deps.redis },
        {
          provide: WorkerRegistryRepository,
          useFactory: (redis: Redis) => new WorkerRegistryRepository(redis, deps.config.redisPrefix),
          inject: [WORKER_REDIS],
        },
        WorkerHeartbeatService,
      ],
    };
  }
}
