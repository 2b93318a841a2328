import { failedResult, type RunResult } from '../outcome.js';
import { type ExecutorJob, type ExecutorOptions, ExecutorProcess } from './executor-process.js';
import { FairQueue } from './fair-queue.js';

export interface PoolStats {
  size: number;
  busy: number;
  queued: number;
  /** Executors started to replace ones that died or were killed. */
  restarts: number;
  /** Executors killed for running past a call's time limit. */
  timeoutKills: number;
}

interface QueuedJob {
  job: ExecutorJob;
  resolve(result: RunResult): void;
}

/**
 * A fixed number of executor processes. Calls wait in a queue fair between
 * tenants (round-robin, so one tenant's burst does not hold up another's
 * calls) and go to an idle executor, preferably one that ran the same artifact
 * last (its module and instance are cached there). A dead executor is replaced at once.
 */
export class ExecutorPool {
  private executors: ExecutorProcess[] = [];
  private readonly queue = new FairQueue<QueuedJob>();
  private stopping = false;
  private restarts = 0;
  private timeoutKills = 0;

  constructor(
    private readonly size: number,
    private readonly options: ExecutorOptions,
  ) {}

  async start(): Promise<void> {
    const started = Array.from({ length: this.size }, () => this.spawn());
    await Promise.all(started.map((executor) => executor.ready));
  }

  /** Runs `job` when an executor is free; `owner` (the tenant) is whose turn it takes. */
  submit(job: ExecutorJob, owner = ''): Promise<RunResult> {
    if (this.stopping) return Promise.reject(new Error('the sandbox is stopping'));
    return new Promise((resolve) => {
      this.queue.push(owner, { job, resolve });
      this.dispatch();
    });
  }

  /** Process ids of the executors, for operators and tests. */
  pids(): number[] {
    return this.executors.map((executor) => executor.pid).filter((pid): pid is number => pid !== undefined);
  }

  stats(): PoolStats {
    return {
      size: this.executors.length,
      busy: this.executors.filter((executor) => executor.busy).length,
      queued: this.queue.length,
      restarts: this.restarts,
      timeoutKills: this.timeoutKills,
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const waiting of this.queue.drain()) {
      waiting.resolve(failedResult('crashed', 'the sandbox stopped before the call ran'));
    }
    const exits = this.executors.map((executor) => executor.exit);
    for (const executor of this.executors) executor.kill();
    await Promise.all(exits);
  }

  private spawn(): ExecutorProcess {
    const executor = new ExecutorProcess(this.options);
    this.executors.push(executor);
    executor.ready.then(
      () => this.dispatch(),
      () => undefined, // reported through its exit
    );
    void executor.exit.then(() => {
      this.executors = this.executors.filter((candidate) => candidate !== executor);
      if (this.stopping) return;
      if (executor.killedOnPurpose) this.timeoutKills++;
      this.restarts++;
      this.spawn();
    });
    return executor;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.executors.filter((executor) => executor.alive && executor.isReady && !executor.busy);
      if (idle.length === 0) return;
      const next = this.queue.shift()!;
      const executor = idle.find((candidate) => candidate.lastArtifact === next.job.message.artifactHash) ?? idle[0]!;
      void executor.run(next.job).then((result) => {
        next.resolve(result);
        this.dispatch();
      });
    }
  }
}
