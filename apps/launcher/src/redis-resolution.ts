import { join } from 'node:path';
import type { AirlockConfig } from '@airlock/config';
import { redisAnswers, startPrivateRedis } from './private-redis.js';

const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export interface ResolvedRedis {
  url: string;
  /** Where it came from, for the start banner. */
  origin: 'REDIS_URL' | 'local server on 127.0.0.1:6379' | 'private redis-server';
  stop(): Promise<void>;
}

/**
 * `REDIS_URL` when set; else a Redis already answering on 127.0.0.1:6379; else a
 * private redis-server under the data dir, stopped when Airlock stops.
 */
export async function resolveRedis(config: AirlockConfig): Promise<ResolvedRedis> {
  const nothingToStop = async () => undefined;
  if (config.redisUrl !== undefined) return { url: config.redisUrl, origin: 'REDIS_URL', stop: nothingToStop };
  if (await redisAnswers(LOCAL_REDIS_URL)) {
    return { url: LOCAL_REDIS_URL, origin: 'local server on 127.0.0.1:6379', stop: nothingToStop };
  }
  const server = await startPrivateRedis({ dir: join(config.dataDir, 'redis'), binary: config.redisBinary });
  return { url: server.url, origin: 'private redis-server', stop: server.stop };
}

/** How often a start waiting for Redis says so. */
const REDIS_WAIT_NOTICE_MS = 10_000;

/**
 * Waits until Redis answers, saying so every few seconds, or until a stop is asked for: a worker (or an API) must not
 * start against a Redis that is not there as if it were, nor wait for it in silence. The URL is not printed: it may
 * hold a password.
 */
export async function untilRedisAnswers(url: string, origin: string, stopped: () => boolean): Promise<void> {
  const since = Date.now();
  let noticedAt: number | undefined;
  while (!(await redisAnswers(url, 1000))) {
    if (stopped()) return;
    if (noticedAt === undefined || Date.now() - noticedAt >= REDIS_WAIT_NOTICE_MS) {
      const waited = noticedAt === undefined ? '' : `: ${Math.round((Date.now() - since) / 1000)} s so far`;
      noticedAt = Date.now();
      console.error(`Waiting for Redis (${origin}) to answer${waited}. Start it, or fix REDIS_URL.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
