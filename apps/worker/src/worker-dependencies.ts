import type { AirlockConfig } from '@airlock/config';
import type { PrismaClient, SqlExecutor } from '@airlock/db';
import type { SecretBox } from '@airlock/execution';
import type { GuardedHttpOptions, Sandbox } from '@airlock/sandbox';
import type { Redis } from 'ioredis';

/** What the worker is given by whoever starts it: the config and open connections. */
export interface WorkerDependencies {
  config: AirlockConfig;
  prisma: PrismaClient;
  /** The database's keyed-lookup connections (`Database.keyedSql`), for claiming and finishing runs. */
  sql: SqlExecutor;
  /** A long-lived connection that waits for Redis to come back (role `consumer`). */
  redis: Redis;
  /** Where plugin code runs: executor processes. */
  sandbox: Sandbox;
  /** Opens binding secrets for the calls that use them. */
  secrets: SecretBox;
  /** DNS and address rules for webhook deliveries (default: system DNS, no private addresses). */
  webhookHttp?: Pick<GuardedHttpOptions, 'resolve' | 'isAddressAllowed'>;
}

export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
export const WORKER_PRISMA = Symbol('WORKER_PRISMA');
export const WORKER_REDIS = Symbol('WORKER_REDIS');
