import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** The private redis-server did not start; says where to look. */
export class RedisStartError extends Error {}

export class RedisBinaryMissingError extends Error {
  constructor(binary: string) {
    super(
      `No Redis is configured (REDIS_URL is unset), nothing answers on 127.0.0.1:6379, and "${binary}" could not be ` +
        'started to run a private one. Install Redis (Debian/Ubuntu: "sudo apt-get install redis-server"; ' +
        'macOS: "brew install redis"), or set REDIS_URL to a Redis server you run.',
    );
    this.name = 'RedisBinaryMissingError';
  }
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Where the server keeps its append-only file, log and pid file. */
  dir: string;
  binary?: string;
  /** Default: a free port on loopback. */
  port?: number;
  /** Default true: keep data across restarts (append-only file). */
  appendOnly?: boolean;
}

/**
 * Starts a redis-server child bound to loopback, for `npm start` on a machine
 * without one, and for tests that must stop Redis without touching the
 * machine's. `noeviction`: BullMQ's keys must never be evicted.
 */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  // The queue's append-only file holds events' jobs: this process's user's only, tightened on a directory made before.
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  await chmod(options.dir, 0o700);
  await stopLeftoverServer(join(options.dir, 'redis.pid'));
  // A free port found is not a port held: another process may take it first. A port of our own choosing is tried
  // again with another; one the caller asked for is the caller's to free.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(options.port ?? (await findFreePort()), options);
    } catch (error) {
      if (options.port !== undefined || error instanceof RedisBinaryMissingError || attempt === 3) throw error;
    }
  }
}

async function startOn(port: number, options: PrivateRedisOptions): Promise<PrivateRedis> {
  const binary = options.binary ?? 'redis-server';
  const pidFile = join(options.dir, 'redis.pid');
  const child = spawn(
    binary,
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--dir', options.dir,
      '--pidfile', pidFile,
      '--logfile', join(options.dir, 'redis.log'),
      '--save', '',
      '--appendonly', options.appendOnly === false ? 'no' : 'yes',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilAnswering(child, url, binary, join(options.dir, 'redis.log'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Asks the Redis server at `url` one thing on a connection of its own; null when none answers within `timeoutMs`. */
async function askRedis<T>(url: string, timeoutMs: number, ask: (probe: Redis) => Promise<T>): Promise<T | null> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await ask(probe);
  } catch {
    return null;
  } finally {
    probe.disconnect();
  }
}

/** The process id of the Redis server answering at `url`, or null when none answers within `timeoutMs`. */
async function redisProcessId(url: string, timeoutMs: number): Promise<number | null> {
  const pid = await askRedis(url, timeoutMs, async (probe) => /^process_id:(\d+)/m.exec(await probe.info('server'))?.[1]);
  return pid === null || pid === undefined ? null : Number(pid);
}

/** Answers whether a Redis server replies to PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  return (await askRedis(url, timeoutMs, (probe) => probe.ping())) === 'PONG';
}

async function waitUntilAnswering(child: ChildProcess, url: string, binary: string, logFile: string): Promise<void> {
  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new RedisBinaryMissingError(binary) : error),
    );
    child.once('exit', (code) => reject(new RedisStartError(`redis-server exited at start (code ${code}); see ${logFile}`)));
  });
  // Ours answering, not merely something: another server on the port (it took the port first) would answer too.
  const answering = (async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pid = await redisProcessId(url, 200);
      if (pid !== null && pid === child.pid) return;
      if (pid !== null) throw new Error(`another Redis server (process ${pid}) holds ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer on ${url} within 10 s`);
  })();
  try {
    await Promise.race([answering, spawnFailure]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** A previous run killed with -9 leaves its server running on the data dir: stop it first. */
async function stopLeftoverServer(pidFile: string): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  if (command.trim().startsWith('redis-server')) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')) !== ''; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await rm(pidFile, { force: true });
}

/** A port nothing listens on right now, on loopback. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
