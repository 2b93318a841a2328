import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** Serves HTTP requests: fails fast instead of queueing commands while Redis is down. */
  | 'request'
  /** Long-lived consumer (BullMQ worker): waits for Redis to come back. */
  | 'consumer';

const roleOptions: Record<RedisRole, RedisOptions> = {
  request: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 },
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
