import type { Redis } from 'ioredis';

/** Runs a Lua script: `numberOfKeys` keys first, then the arguments. */
export type RedisScript = (numberOfKeys: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>;

/**
 * A Lua script defined on `redis` as a command (ioredis `defineCommand`): its
 * body crosses the connection once, and each call after that sends only its
 * SHA1 (EVALSHA), which Redis looks up instead of hashing the body again. ioredis
 * sends the body again when Redis has forgotten it (a restart). Repositories that
 * share a connection share the definition.
 */
export function redisScript(redis: Redis, name: string, lua: string): RedisScript {
  const commands = redis as unknown as Record<string, RedisScript | undefined>;
  if (typeof commands[name] !== 'function') redis.defineCommand(name, { lua });
  return (...args) => commands[name]!(...args);
}
