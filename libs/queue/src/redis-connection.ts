import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** Serves HTTP requests: fails fast instead of queueing commands while Redis is down. */
  | 'request'
  /** Long-lived consumer (BullMQ worker): waits for Redis to come back. */
  | 'consumer';

/**
 * How long a request's Redis command may take before the request fails (503). Without it, a Redis that hangs
 * rather than refuses (a stopped process, a network partition) held requests for as long as it hung, and a client
 * that gave up meanwhile had its event recorded all the same. A command that timed out may still run once Redis
 * answers: a job added late has the id of the one the reconciler queues for its recorded invocation (one job), and
 * an in-flight count taken for a refused request is released by the reconciler; only the day's counters may keep
 * a count for a request that was refused.
 */
export const REQUEST_COMMAND_TIMEOUT_MS = 800;

const roleOptions: Record<RedisRole, RedisOptions> = {
  request: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: REQUEST_COMMAND_TIMEOUT_MS },
  // BullMQ requires maxRetriesPerRequest: null on connections that block.
  consumer: { maxRetriesPerRequest: null },
};

/**
 * Opens an ioredis connection for `role`. Reconnection backs off up to 2 s so a
 * Redis restart is survived without restarting the process.
 */
export function createRedisConnection(url: string, role: RedisRole, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    ...roleOptions[role],
  });
}
