import { metrics, serviceLogOptions } from '@airlock/telemetry';
import { LoggerModule } from 'nestjs-pino';
import { type DynamicModule, Module } from '@nestjs/common';
import { InvocationRepository, InvocationWorkRepository, PluginVersionRepository, RetentionRepository, SealedSecretRepository, TenantQuotaRepository, WebhookRepository } from '@airlock/db';
import { ArtifactCache, CoalescingBatcher, InvocationReconciler, InvocationRunner, PolicyResolver, RetentionSweeper, SecretResealer, WebhookSender } from '@airlock/execution';
import {
  createInvocationQueue,
  createWebhookQueue,
  enqueueDeliveries,
  enqueueInvocations,
  inspectInvocationJobs,
  invocationJobKey,
  invocationRetryPolicy,
  type Settlement,
  TenantQuotaGateRepository,
  unsettledFailedInvocationJobs,
  WorkerRegistryRepository,
} from '@airlock/queue';
import type { Redis } from 'ioredis';
import pRetry from 'p-retry';
import { WorkerHeartbeatService } from './heartbeat/worker-heartbeat.service.js';
import { InvocationsProcessor } from './invocations/invocations.processor.js';
import { WebhooksProcessor } from './invocations/webhooks.processor.js';
import { MaintenanceProcessor } from './maintenance/maintenance.processor.js';
import { WORKER_CONFIG, WORKER_PRISMA, WORKER_REDIS, type WorkerDependencies } from './worker-dependencies.js';

/** What follows a written outcome is retried for about 25 s (from 0.2 s, doubling) before the job fails. */
const AFTER_FINISH_RETRIES = { retries: 7, minTimeout: 200, factor: 2 };

@Module({})
export class WorkerModule {
  static register(deps: WorkerDependencies): DynamicModule {
    const { prisma } = deps;
    return {
      module: WorkerModule,
      // Service logs as JSON lines (pino), with the tenant and trace of the job being run when there is one.
      imports: [LoggerModule.forRoot({ pinoHttp: serviceLogOptions('airlock-worker', deps.config.logLevel) })],
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
            const settles = new CoalescingBatcher<Settlement, void>(async (finished) => {
              await quotas.settleMany(finished);
              return finished.map(() => undefined);
            });
            const webhooks = new WebhookRepository(prisma);
            const webhookQueue = createWebhookQueue(redis, deps.config.redisPrefix);
            return new InvocationRunner({
              work: new InvocationWorkRepository(prisma, deps.sql),
              versions: new PluginVersionRepository(prisma),
              policies: new PolicyResolver(new TenantQuotaRepository(prisma)),
              secrets: deps.secrets,
              artifacts: new ArtifactCache(),
              sandbox: deps.sandbox,
              onFinished: (invocation, result) => {
                metrics.invocations.inc({ tier: invocation.tenantTier, status: result.status });
                metrics.invocationDuration.observe({ tier: invocation.tenantTier }, result.durationMs / 1000);
                metrics.invocationFuel.observe({ tier: invocation.tenantTier }, result.fuelUsed);
              },
              settle: async (invocation, lastAttemptFuel) => {
                // The outcome is written, so its job will not run again: what follows must not be lost to a hiccup,
                // or the tenant's slot and fuel stay off and the result is never posted. Both steps are safe to
                // repeat (deliveries are one per webhook and invocation, the charge is marked on the job) and are
                // repeated when they did not finish: if the worker dies here, the job comes back; if they keep
                // failing, the job fails unmarked and the reconciler settles it. So the mark comes last: a job
                // marked has had its results posted too.
                if (invocation.hasWebhooks) {
                  await pRetry(async () => {
                    const deliveries = await webhooks.planDeliveries(invocation.tenantId, invocation.id, invocation.eventType);
                    await enqueueDeliveries(webhookQueue, redis, invocation.tenantId, deliveries);
                  }, AFTER_FINISH_RETRIES);
                }
                const jobKey = invocationJobKey(deps.config.redisPrefix, invocation.id);
                await pRetry(() => settles.submit({ tenantId: invocation.tenantId, fuelUsed: lastAttemptFuel, jobKey }), AFTER_FINISH_RETRIES);
              },
              // A failed attempt burned fuel too (a plugin could otherwise retry its way past the day's budget).
              onRetrying: (invocation, result) => quotas.chargeFuel(invocation.tenantId, BigInt(result.fuelUsed)),
            });
          },
          inject: [WORKER_REDIS],
        },
        {
          provide: WebhookSender,
          useFactory: () => new WebhookSender(new WebhookRepository(prisma), new InvocationRepository(prisma), deps.secrets, deps.webhookHttp),
        },
        { provide: SecretResealer, useFactory: () => new SecretResealer(new SealedSecretRepository(prisma), deps.secrets) },
        {
          provide: RetentionSweeper,
          useFactory: () => new RetentionSweeper(new RetentionRepository(prisma), new PolicyResolver(new TenantQuotaRepository(prisma)), deps.config.retentionBatchSize),
        },
        {
          provide: InvocationReconciler,
          useFactory: (redis: Redis, runner: InvocationRunner) => {
            const queue = createInvocationQueue(redis, deps.config.redisPrefix);
            const quotas = new TenantQuotaGateRepository(redis, deps.config.redisPrefix);
            const work = new InvocationWorkRepository(prisma, deps.sql);
            const retention = new RetentionRepository(prisma);
            const sweepMs = deps.config.reconcileIntervalMs;
            return new InvocationReconciler({
              tenants: () => retention.tenants(),
              unfinished: (tenantId, afterId, limit) => work.unfinished(tenantId, afterId, limit),
              inspectJobs: (ids) => inspectInvocationJobs(queue, ids),
              requeue: (tenantId, id) => enqueueInvocations(queue, tenantId, [id], invocationRetryPolicy(deps.config.jobAttempts)),
              recordLost: (tenantId, id, message) => runner.recordLost(tenantId, id, message),
              // The failed set keeps the last 10,000 failures: at most that many are looked at.
              unsettledFailed: (since) => unsettledFailedInvocationJobs(queue, redis, since, 10_000),
              settleFinished: (tenantId, id) => runner.settleIfFinished(tenantId, id),
              releaseIfIdle: (tenantId, idle) => quotas.releaseIfIdle(tenantId, idle, sweepMs),
              // An invocation younger than a sweep may still be on its way to the queue.
              graceMs: sweepMs,
              pageSize: 1000,
            });
          },
          inject: [WORKER_REDIS, InvocationRunner],
        },
        MaintenanceProcessor,
        WorkerHeartbeatService,
        InvocationsProcessor,
        WebhooksProcessor,
      ],
    };
  }
}
