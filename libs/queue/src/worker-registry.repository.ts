import type { Redis } from 'ioredis';

/** A worker that has not beaten for this long is not counted as live. */
export const WORKER_HEARTBEAT_TTL_MS = 15_000;

/**
 * Where workers say they are alive, so the API's readiness report can tell how
 * many are consuming. A sorted set of worker ids scored by their last beat.
 */
export class WorkerRegistryRepository {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:workers`;
  }

  async beat(workerId: string, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.key, now, workerId)
      .zremrangebyscore(this.key, 0, now - WORKER_HEARTBEAT_TTL_MS)
      .exec();
  }

  async remove(workerId: string): Promise<void> {
    await this.redis.zrem(this.key, workerId);
  }

  countLive(now = Date.now()): Promise<number> {
    return this.redis.zcount(this.key, now - WORKER_HEARTBEAT_TTL_MS, '+inf');
  }
}
