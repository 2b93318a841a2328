import { Inject, Injectable } from '@nestjs/common';
import { DiskSpaceLowError } from '@airlock/db';
import { WorkerRegistryRepository } from '@airlock/queue';
import type { Redis } from 'ioredis';
import { DATABASE_PING, REDIS } from '../infrastructure/api-dependencies.js';

export type DependencyState = 'up' | 'down';

export interface Readiness {
  ready: boolean;
  checks: { database: DependencyState; redis: DependencyState };
  /** Why a dependency is down, when more is known than that it does not answer. */
  reasons: { database?: string; redis?: string };
  /** Workers that sent a heartbeat recently (informational: the API serves without them). */
  workers: number | null;
}

/** A probe that hangs is as bad as one that fails: each check gets this long. */
const CHECK_TIMEOUT_MS = 1_500;

@Injectable()
export class ReadinessService {
  constructor(
    @Inject(DATABASE_PING) private readonly pingDatabase: () => Promise<void>,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly workers: WorkerRegistryRepository,
  ) {}

  async check(): Promise<Readiness> {
    const [database, redis] = await Promise.all([
      probe(this.pingDatabase()),
      probe(this.redis.ping().then(() => undefined)),
    ]);
    const workers = redis.state === 'up' ? await this.workers.countLive().catch(() => null) : null;
    return {
      ready: database.state === 'up' && redis.state === 'up',
      checks: { database: database.state, redis: redis.state },
      reasons: { ...(database.reason === undefined ? {} : { database: database.reason }) },
      workers,
    };
  }
}

/**
 * Whether `check` succeeds in time. Only a full disk says why: other failures (a driver's message may name hosts and
 * users) are told as "unreachable".
 */
async function probe(check: Promise<void>): Promise<{ state: DependencyState; reason?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check, timeout]);
    return { state: 'up' };
  } catch (error) {
    return error instanceof DiskSpaceLowError ? { state: 'down', reason: error.message } : { state: 'down' };
  } finally {
    clearTimeout(timer);
  }
}
