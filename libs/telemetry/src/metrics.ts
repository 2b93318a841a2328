import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of this process (`GET /metrics` on the API with the admin
 * token, or AIRLOCK_METRICS_PORT). In `npm start` the API and the worker share
 * the process, so one scrape covers both.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];

export const metrics = {
  invocations: new Counter({
    name: 'airlock_invocations_total',
    help: 'Finished invocations, by the tenant tier they ran under and their status.',
    labelNames: ['tier', 'status'] as const,
    registers,
  }),
  invocationDuration: new Histogram({
    name: 'airlock_invocation_duration_seconds',
    help: 'Time plugins ran, per invocation.',
    labelNames: ['tier'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }),
  invocationFuel: new Histogram({
    name: 'airlock_invocation_fuel',
    help: 'Fuel used per invocation.',
    labelNames: ['tier'] as const,
    buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10],
    registers,
  }),
  admissionRejections: new Counter({
    name: 'airlock_admission_rejections_total',
    help: 'Modules refused at admission (upload or run), by reason.',
    labelNames: ['kind'] as const,
    registers,
  }),
  httpRequests: new Counter({
    name: 'airlock_http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  httpDuration: new Histogram({
    name: 'airlock_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  }),
};

/** What an executor pool reports (the sandbox's `stats()`). */
export interface ExecutorPoolStats {
  size: number;
  busy: number;
  queued: number;
  restarts: number;
  timeoutKills: number;
}

/** Reports an executor pool at every scrape. */
export function observeExecutorPool(stats: () => ExecutorPoolStats): void {
  gauge('airlock_executors', 'Executor processes, by state.', ['state'], (set) => {
    const now = stats();
    set({ state: 'busy' }, now.busy);
    set({ state: 'idle' }, now.size - now.busy);
  });
  gauge('airlock_executor_queued_calls', 'Plugin calls waiting for an executor.', [], (set) => set({}, stats().queued));
  gauge('airlock_executor_restarts', 'Executors started to replace ones that died or were killed, since this process started.', [], (set) => set({}, stats().restarts));
  gauge('airlock_executor_timeout_kills', 'Executors killed because a call ran past its time limit, since this process started.', [], (set) => set({}, stats().timeoutKills));
}

/** What a queue reports: jobs by state, and how long the next job to run has waited. */
export interface QueueProbe {
  name: string;
  counts(): Promise<Record<string, number>>;
  /** Milliseconds since the job that runs next was queued; null when none waits. */
  nextJobAgeMs(): Promise<number | null>;
}

/** Reports queues at every scrape. */
export function observeQueues(queues: readonly QueueProbe[]): void {
  gauge('airlock_queue_jobs', 'Jobs in each queue, by state.', ['queue', 'state'], async (set) => {
    for (const queue of queues) for (const [state, count] of Object.entries(await queue.counts())) set({ queue: queue.name, state }, count);
  });
  gauge('airlock_queue_next_job_age_seconds', 'How long the job that runs next has waited.', ['queue'], async (set) => {
    for (const queue of queues) set({ queue: queue.name }, ((await queue.nextJobAgeMs()) ?? 0) / 1000);
  });
}

function gauge<L extends string>(name: string, help: string, labelNames: L[], read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void | Promise<void>): void {
  // A second pool or set of queues in one process (tests) replaces the first's reporting.
  metricsRegistry.removeSingleMetric(name);
  new Gauge({
    name,
    help,
    labelNames,
    registers,
    async collect() {
      this.reset();
      await read((labels, value) => this.set(labels as never, value));
    },
  });
}
