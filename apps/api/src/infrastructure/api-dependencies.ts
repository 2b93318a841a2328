import type { AirlockConfig } from '@airlock/config';
import type { PrismaClient, SqlExecutor } from '@airlock/db';
import type { InvocationJobData } from '@airlock/queue';
import type { Sandbox } from '@airlock/sandbox';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SecretBox } from '@airlock/execution';

/**
 * What the API is given by whoever starts it (its own main, the all-in-one
 * launcher, or a test): the parsed config and the open connections it shares.
 */
export interface ApiDependencies {
  config: AirlockConfig;
  prisma: PrismaClient;
  /** The database without Prisma Client, for the event path's hot statements. */
  sql: SqlExecutor;
  /** A connection that fails fast when Redis is down (role `request`). */
  redis: Redis;
  /** SHA-256 (hex) of the admin token; the token itself is never held. */
  adminTokenHash: string;
  /** Answers when the database is reachable; rejects otherwise. */
  pingDatabase(): Promise<void>;
  /** Runs plugin code (declared tests, the publish gate) in executor processes. */
  sandbox: Sandbox;
  /** Encrypts binding secrets. */
  secrets: SecretBox;
  /** Where event invocations are queued for the workers. */
  invocationQueue: Queue<InvocationJobData>;
}

export const API_CONFIG = Symbol('API_CONFIG');
export const PRISMA = Symbol('PRISMA');
export const SQL = Symbol('SQL');
export const REDIS = Symbol('REDIS');
export const ADMIN_TOKEN_HASH = Symbol('ADMIN_TOKEN_HASH');
export const DATABASE_PING = Symbol('DATABASE_PING');
export const SANDBOX = Symbol('SANDBOX');
export const INVOCATION_QUEUE = Symbol('INVOCATION_QUEUE');
