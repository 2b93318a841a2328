import { type DynamicModule, Global, Module } from '@nestjs/common';
import {
  ApiKeyRepository,
  AuditRepository,
  BindingRepository,
  EventRepository,
  InvocationRepository,
  PluginRepository,
  PluginVersionRepository,
  type PrismaClient,
  type SqlExecutor,
  TenantQuotaRepository,
  PluginLogRepository,
  SpanRepository,
  TenantRepository,
  WebhookRepository,
} from '@airlock/db';
import { TenantQuotaGateRepository, WorkerRegistryRepository } from '@airlock/queue';
import type { Redis } from 'ioredis';
import { SecretBox } from '@airlock/execution';
import {
  ADMIN_TOKEN_HASH,
  API_CONFIG,
  type ApiDependencies,
  DATABASE_PING,
  INVOCATION_QUEUE,
  PRISMA,
  REDIS,
  SQL,
  SANDBOX,
} from './api-dependencies.js';

/** Provides the shared connections and the repositories built on them, app-wide. */
@Global()
@Module({})
export class InfrastructureModule {
  static register(deps: ApiDependencies): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: API_CONFIG, useValue: deps.config },
        { provide: PRISMA, useValue: deps.prisma },
        { provide: SQL, useValue: deps.sql },
        { provide: REDIS, useValue: deps.redis },
        { provide: ADMIN_TOKEN_HASH, useValue: deps.adminTokenHash },
        { provide: DATABASE_PING, useValue: deps.pingDatabase },
        { provide: SANDBOX, useValue: deps.sandbox },
        { provide: SecretBox, useValue: deps.secrets },
        { provide: INVOCATION_QUEUE, useValue: deps.invocationQueue },
        { provide: EventRepository, useFactory: (prisma: PrismaClient, sql: SqlExecutor) => new EventRepository(prisma, sql), inject: [PRISMA, SQL] },
        { provide: InvocationRepository, useFactory: (prisma: PrismaClient) => new InvocationRepository(prisma), inject: [PRISMA] },
        { provide: WebhookRepository, useFactory: (prisma: PrismaClient) => new WebhookRepository(prisma), inject: [PRISMA] },
        { provide: PluginRepository, useFactory: (prisma: PrismaClient) => new PluginRepository(prisma), inject: [PRISMA] },
        { provide: PluginVersionRepository, useFactory: (prisma: PrismaClient) => new PluginVersionRepository(prisma), inject: [PRISMA] },
        { provide: BindingRepository, useFactory: (prisma: PrismaClient) => new BindingRepository(prisma), inject: [PRISMA] },
        { provide: TenantQuotaRepository, useFactory: (prisma: PrismaClient) => new TenantQuotaRepository(prisma), inject: [PRISMA] },
        { provide: AuditRepository, useFactory: (prisma: PrismaClient) => new AuditRepository(prisma), inject: [PRISMA] },
        { provide: TenantRepository, useFactory: (prisma: PrismaClient) => new TenantRepository(prisma), inject: [PRISMA] },
        { provide: ApiKeyRepository, useFactory: (prisma: PrismaClient) => new ApiKeyRepository(prisma), inject: [PRISMA] },
        { provide: SpanRepository, useFactory: (prisma: PrismaClient, sql: SqlExecutor) => new SpanRepository(prisma, sql), inject: [PRISMA, SQL] },
        { provide: PluginLogRepository, useFactory: (prisma: PrismaClient) => new PluginLogRepository(prisma), inject: [PRISMA] },
        {
          provide: TenantQuotaGateRepository,
          useFactory: (redis: Redis) => new TenantQuotaGateRepository(redis, deps.config.redisPrefix),
          inject: [REDIS],
        },
        {
          provide: WorkerRegistryRepository,
          useFactory: (redis: Redis) => new WorkerRegistryRepository(redis, deps.config.redisPrefix),
          inject: [REDIS],
        },
      ],
      exports: [
        API_CONFIG,
        ADMIN_TOKEN_HASH,
        DATABASE_PING,
        REDIS,
        SANDBOX,
        SecretBox,
        INVOCATION_QUEUE,
        EventRepository,
        InvocationRepository,
        WebhookRepository,
        TenantRepository,
        ApiKeyRepository,
        SpanRepository,
        PluginLogRepository,
        WorkerRegistryRepository,
        TenantQuotaGateRepository,
        PluginRepository,
        PluginVersionRepository,
        BindingRepository,
        TenantQuotaRepository,
        AuditRepository,
      ],
    };
  }
}
