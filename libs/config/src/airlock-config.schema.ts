import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * A whole number written in digits, then held to `limits`. Not `Number()`'s reading, which takes `0x10` as 16,
 * `1e3` as 1000 and `3000.0` as 3000: a value that is not what it looks like is refused, not read as another.
 */
const whole = (limits: z.ZodNumber) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number written in digits')
    .transform(Number)
    .pipe(limits);

const port = whole(z.number().int().min(0).max(65535));

const parsedUrl = (value: string): URL | null => {
  try {
    return new URL(value);
  } catch {
    return null;
  }
};

/**
 * A URL of one of `protocols` that names a host (`redis://`, `redis:/cache:6379` or a typo like it would quietly
 * mean another server, the client library's default). `hostless` allows a URL without a host where that is a form of
 * its own (PostgreSQL's `postgresql:///airlock`, the default socket, or `?host=/run/postgresql`).
 */
const urlWithProtocols = (protocols: readonly string[], hostless: (url: URL) => boolean = () => false) =>
  z
    .string()
    .trim()
    .refine((value) => protocols.includes(parsedUrl(value)?.protocol ?? ''), `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`)
    .refine((value) => {
      const url = parsedUrl(value);
      return url === null || !protocols.includes(url.protocol) || (value.slice(url.protocol.length).startsWith('//') && (url.hostname !== '' || hostless(url)));
    }, 'must name a host after "//"');

/** A Redis URL's path is its database number, or nothing. */
const redisUrl = urlWithProtocols(['redis:', 'rediss:']).refine((value) => {
  const url = parsedUrl(value);
  return url === null || /^\/?(\d+)?$/.test(url.pathname);
}, 'must have a database number, or nothing, after the host (redis://host:6379/0)');

/** Treats an empty variable like an unset one, so `FOO= npm start` means "use the default". */
const emptyAsUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * Every environment variable Airlock reads, with its default. Parsed once at boot
 * (see `loadConfig`); nothing else in the code base reads `process.env`.
 */
export const airlockConfigSchema = z.object({
  HOST: z.preprocess(emptyAsUndefined, z.string().trim().min(1).default('0.0.0.0')),
  PORT: z.preprocess(emptyAsUndefined, port.default(3000)),
  DATABASE_URL: z.preprocess(emptyAsUndefined, urlWithProtocols(['postgres:', 'postgresql:'], (url) => url.searchParams.has('host') || url.pathname.length > 1).optional()),
  REDIS_URL: z.preprocess(emptyAsUndefined, redisUrl.optional()),
  AIRLOCK_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().trim().default('./.airlock')),
  AIRLOCK_ADMIN_TOKEN: z.preprocess(
    emptyAsUndefined,
    // Sent as `Authorization: Bearer <token>`, which ends at the first space: a token with one could never be sent.
    z.string().min(24, 'must be at least 24 characters long').regex(/^\S+$/, 'must not contain spaces or other whitespace (it is sent after "Bearer ")').optional(),
  ),
  AIRLOCK_REDIS_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 letters, digits, ":", "_" or "-"')
      .default('airlock'),
  ),
  AIRLOCK_BODY_LIMIT_BYTES: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1024)).default(5 * 1024 * 1024)),
  AIRLOCK_MODULE_UPLOAD_LIMIT_BYTES: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1024)).default(64 * 1024 * 1024)),
  AIRLOCK_REDIS_BINARY: z.preprocess(emptyAsUndefined, z.string().default('redis-server')),
  AIRLOCK_MIN_FREE_DISK_BYTES: z.preprocess(emptyAsUndefined, whole(z.number().int().min(0)).default(64 * 1024 * 1024)),
  AIRLOCK_SECRETS_KEYS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)*$/,
        'must be a comma-separated list of <id>:<32 random bytes in base64>, the first one current',
      )
      .refine((keys) => {
        const ids = keys.split(',').map((key) => key.split(':')[0]);
        return new Set(ids).size === ids.length;
      }, 'must give each key its own id (a sealed secret names the id of the key that opens it)')
      .optional(),
  ),
  AIRLOCK_JOB_ATTEMPTS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1).max(20)).default(4)),
  AIRLOCK_JOB_LOCK_MS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(500).max(10 * 60_000)).default(30_000)),
  AIRLOCK_SHUTDOWN_DRAIN_MS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(0).max(10 * 60_000)).default(10_000)),
  AIRLOCK_RETENTION_INTERVAL_MS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1000)).default(3_600_000)),
  AIRLOCK_RETENTION_BATCH_SIZE: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1).max(100_000)).default(1000)),
  AIRLOCK_STREAM_MAX_MS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1000).max(24 * 3_600_000)).default(600_000)),
  AIRLOCK_STREAMS_PER_TENANT: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1).max(100_000)).default(50)),
  AIRLOCK_RECONCILE_INTERVAL_MS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(100).max(24 * 3_600_000)).default(60_000)),
  AIRLOCK_EXECUTORS: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1).max(256)).default(availableParallelism())),
  AIRLOCK_TENANT_SHARE: z.preprocess(emptyAsUndefined, whole(z.number().int().min(1).max(4096)).optional()),
  AIRLOCK_METRICS_PORT: z.preprocess(emptyAsUndefined, port.optional()),
  OTEL_SDK_DISABLED: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).default('false')),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, urlWithProtocols(['http:', 'https:']).optional()),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['error', 'warn', 'info', 'debug']).default('info')),
});

export type AirlockEnv = z.output<typeof airlockConfigSchema>;

/** The typed configuration every app receives. */
export interface AirlockConfig {
  host: string;
  port: number;
  /** Unset means the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  /** Unset means: 127.0.0.1:6379 if it answers, else a private redis-server. */
  redisUrl: string | undefined;
  /** Absolute path of the directory that holds everything kept locally. */
  dataDir: string;
  /** Unset means a token generated on first start, kept hashed in `dataDir`. */
  adminToken: string | undefined;
  redisPrefix: string;
  bodyLimitBytes: number;
  /** Largest raw module upload (inflated); a tenant's tier may allow less. */
  moduleUploadLimitBytes: number;
  redisBinary: string;
  /** The embedded database says it is not ready (GET /readyz) while its disk has less free space than this. */
  minFreeDiskBytes: number;
  /** Keys that encrypt binding secrets: `<id>:<base64 key>` pairs, the first encrypts, all decrypt. Unset: one kept in `dataDir`. */
  secretsKeys: string | undefined;
  /** Attempts of an invocation whose failures are transient (crashed executor, host failure) before it is dead-lettered. */
  jobAttempts: number;
  /** How long a worker's claim on a job lasts between renewals; a job whose lock lapses is run again. */
  jobLockMs: number;
  /**
   * On SIGTERM, how long a worker lets running jobs finish; what is still
   * running then is left to other workers (its lock lapses and it runs again).
   */
  shutdownDrainMs: number;
  /** How long a Server-Sent Events stream lasts before it sends `timeout` and ends (the client reconnects). */
  streamMaxMs: number;
  /** Server-Sent Events streams one tenant may have open at once on one API process (each polls the database). */
  streamsPerTenant: number;
  /** How often workers delete what is older than each tenant's retention. */
  retentionIntervalMs: number;
  /** Rows per delete statement of the retention sweep. */
  retentionBatchSize: number;
  /**
   * How often workers look for unfinished invocations whose job the queue no
   * longer holds or gave up on, and for in-flight counts nothing accounts for.
   */
  reconcileIntervalMs: number;
  /** Processes that run plugin code (tests, publish gate, jobs). */
  executors: number;
  /**
   * Jobs one tenant may have under way in a worker while other tenants are
   * active (its others wait their turn); alone, a tenant has no such limit.
   * Default: half the executors, at least 1.
   */
  tenantShare: number;
  logLevel: AirlockEnv['LOG_LEVEL'];
  /** A port of its own for GET /metrics, without credentials (the API also serves /metrics to the admin token). */
  metricsPort: number | undefined;
  /** OTEL_SDK_DISABLED=true: no spans at all (no trace store, no export). */
  tracingDisabled: boolean;
  /** Base URL of an OTLP/HTTP collector; spans are sent to `<url>/v1/traces` as well as kept per tenant. */
  otlpEndpoint: string | undefined;
}

export function toAirlockConfig(env: AirlockEnv, cwd: string): AirlockConfig {
  return {
    host: env.HOST,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    dataDir: isAbsolute(env.AIRLOCK_DATA_DIR) ? env.AIRLOCK_DATA_DIR : resolve(cwd, env.AIRLOCK_DATA_DIR),
    adminToken: env.AIRLOCK_ADMIN_TOKEN,
    redisPrefix: env.AIRLOCK_REDIS_PREFIX,
    bodyLimitBytes: env.AIRLOCK_BODY_LIMIT_BYTES,
    moduleUploadLimitBytes: env.AIRLOCK_MODULE_UPLOAD_LIMIT_BYTES,
    redisBinary: env.AIRLOCK_REDIS_BINARY,
    minFreeDiskBytes: env.AIRLOCK_MIN_FREE_DISK_BYTES,
    executors: env.AIRLOCK_EXECUTORS,
    tenantShare: env.AIRLOCK_TENANT_SHARE ?? Math.max(1, Math.floor(env.AIRLOCK_EXECUTORS / 2)),
    jobAttempts: env.AIRLOCK_JOB_ATTEMPTS,
    jobLockMs: env.AIRLOCK_JOB_LOCK_MS,
    shutdownDrainMs: env.AIRLOCK_SHUTDOWN_DRAIN_MS,
    streamMaxMs: env.AIRLOCK_STREAM_MAX_MS,
    streamsPerTenant: env.AIRLOCK_STREAMS_PER_TENANT,
    retentionIntervalMs: env.AIRLOCK_RETENTION_INTERVAL_MS,
    retentionBatchSize: env.AIRLOCK_RETENTION_BATCH_SIZE,
    reconcileIntervalMs: env.AIRLOCK_RECONCILE_INTERVAL_MS,
    secretsKeys: env.AIRLOCK_SECRETS_KEYS,
    logLevel: env.LOG_LEVEL,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    tracingDisabled: env.OTEL_SDK_DISABLED === 'true',
    metricsPort: env.AIRLOCK_METRICS_PORT,
  };
}
