// The floor under the event pipeline's figures: the least that any design
// meeting the pipeline's requirements does for an event, with none of Airlock's
// own work. Spawned by pipeline.bench.ts as two processes, as Airlock runs:
//
//   node pipeline-floor.js api     an HTTP server: each POST /events records the event in PostgreSQL
//                                  (committed, statements shared by concurrent requests) and queues one
//                                  BullMQ job, then answers 202
//   node pipeline-floor.js worker  a BullMQ worker: each job runs the plugin in the sandbox's executor
//                                  processes and records the result in PostgreSQL (committed, shared
//                                  statements), then completes
//
// Left out, and all required of Airlock: authentication, validation, quotas,
// idempotency lookups, bindings, claims, fairness, usage, logs, spans, webhooks.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { admit, loadTier, Sandbox } from '@airlock/sandbox';
import { createRedisConnection } from '@airlock/queue';
import { Queue, Worker } from 'bullmq';
import pg from 'pg';

/** The floor's queue (pipeline.bench.ts watches it by this name). */
const FLOOR_QUEUE = 'floor';
const role = process.argv[2];
const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 });

/**
 * Rows written by one multi-row INSERT per round: rows that arrive while a
 * statement is in flight go together in the next one (as Airlock's batchers do).
 */
function rowWriter(statement: string, columns: number): (row: unknown[]) => Promise<void> {
  let waiting: Array<{ row: unknown[]; done: () => void; failed: (error: unknown) => void }> = [];
  let writing = false;
  const write = async (): Promise<void> => {
    writing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const values = batch.map((_, i) => `(${Array.from({ length: columns }, (_, c) => `$${i * columns + c + 1}`).join(', ')})`).join(', ');
      try {
        await pool.query(`${statement} VALUES ${values}`, batch.flatMap((item) => item.row));
        for (const item of batch) item.done();
      } catch (error) {
        for (const item of batch) item.failed(error);
      }
    }
    writing = false;
  };
  return (row) =>
    new Promise<void>((done, failed) => {
      waiting.push({ row, done, failed });
      if (!writing) void write();
    });
}

if (role === 'api') {
  const queue = new Queue(FLOOR_QUEUE, { connection: createRedisConnection(env('REDIS_URL'), 'request', 'floor-api'), prefix: env('PREFIX') });
  const recordEvent = rowWriter('INSERT INTO floor_events (id, type, payload)', 3);
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      void (async () => {
        const event = JSON.parse(body) as { type: string; payload: unknown };
        const id = randomUUID();
        await recordEvent([id, event.type, JSON.stringify(event.payload)]);
        await queue.add('run', { payload: event.payload }, { jobId: id });
        const answer = JSON.stringify({ eventId: id, invocations: [{ id }] });
        response.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
      })().catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
  });
  server.listen(Number(env('PORT')), '127.0.0.1', () => console.log('floor api ready'));
} else if (role === 'worker') {
  const policy = await loadTier('enterprise');
  const admitted = admit(readFileSync(env('PLUGIN_WASM')), policy);
  if (!admitted.ok) throw new Error(admitted.rejection.reason);
  const executors = Number(env('EXECUTORS'));
  const sandbox = await Sandbox.start({ executors });
  const recordResult = rowWriter('INSERT INTO floor_results (id, status, output, fuel_used, duration_ms)', 5);
  const worker = new Worker(
    FLOOR_QUEUE,
    async (job) => {
      const data = job.data as { payload: unknown };
      const result = await sandbox.run(admitted.artifact, 'greet', JSON.stringify(data.payload), { tenantId: 'floor', pluginId: 'floor', policy });
      await recordResult([job.id, result.status, Buffer.from(result.output), result.fuelUsed, result.durationMs]);
      return result.status;
    },
    // As many jobs under way as Airlock's worker takes (16 per executor).
    { connection: createRedisConnection(env('REDIS_URL'), 'consumer', 'floor-worker'), prefix: env('PREFIX'), concurrency: executors * 16 },
  );
  await worker.waitUntilReady();
  process.once('SIGTERM', () => void Promise.all([worker.close(), sandbox.stop(), pool.end()]).then(() => process.exit(0)));
  console.log('floor worker ready');
} else {
  throw new Error('usage: pipeline-floor.js api|worker');
}
