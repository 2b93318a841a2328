import { failedResult, type RunResult } from '../outcome.js';
import { type ExecutorJob, type ExecutorOptions, ExecutorProcess } from './executor-process.js';
import { FairQueue } from './fair-queue.js';
import { RecentOwners } from './recent-owners.js';

/**
 * How long after another tenant's last call a busy tenant is still made to
 * share: here, kept from the last idle executor while it has a call running
 * (workers hold its jobs to a share likewise). Long enough to cover a tenant
 * whose events come every few seconds; a lone tenant gets everything.
 */
export const TENANT_SHARING_WINDOW_MS = 30_000;

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
  owner: string;
  resolve(result: RunResult): void;
  /** Stops listening for a withdrawal: once taken by an executor, or answered. */
  forgetWithdrawal(): void;
}

/** What a withdrawn call ends with: the reason it was withdrawn with, a RunResult. */
function withdrawnResult(withdrawal: AbortSignal): RunResult {
  const reason: unknown = withdrawal.reason;
  const isResult = typeof reason === 'object' && reason !== null && 'status' in reason && 'output' in reason;
  return isResult ? (reason as RunResult) : failedResult('host_error', 'the call was withdrawn before it ran');
}

/**
 * A fixed number of executor processes. Calls wait in a queue fair between
 * tenants (round-robin, so one tenant's burst does not hold up another's
 * calls) and go to an idle executor, preferably one that ran the same artifact
 * last (its module and instance are cached there). A dead executor is replaced at once.
 *
 * Round-robin alone still makes a tenant that arrives while a flood holds every
 * executor wait for one of the flood's calls to end, however long plugin calls
 * run. So while more than one tenant is about, the last idle executor is kept
 * for a tenant with nothing running: a newcomer starts at once, and the flood
 * leaves a core to the rest of the machine.
 */
export class ExecutorPool {
  private executors: ExecutorProcess[] = [];
  private readonly queue = new FairQueue<QueuedJob>();
  /** Calls running, by owner. */
  private readonly running = new Map<string, number>();
  private readonly recentOwners = new RecentOwners();
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

  /**
   * Runs `job` when an executor is free; `owner` (the tenant) is whose turn it takes. Aborting `withdrawal`
   * before an executor takes the job answers it at once with the abort's reason (see RunContext.withdrawal).
   */
  submit(job: ExecutorJob, owner = '', withdrawal?: AbortSignal): Promise<RunResult> {
    if (this.stopping) return Promise.reject(new Error('the sandbox is stopping'));
    return new Promise((resolve) => {
      if (withdrawal?.aborted) return resolve(withdrawnResult(withdrawal));
      // A signal may outlive many calls (one per shutdown, say): its listener goes with the job's wait.
      const withdraw = () => {
        if (this.queue.remove(owner, queued)) resolve(withdrawnResult(withdrawal!));
      };
      const queued: QueuedJob = { job, owner, resolve, forgetWithdrawal: () => withdrawal?.removeEventListener('abort', withdraw) };
      withdrawal?.addEventListener('abort', withdraw, { once: true });
      this.recentOwners.record(owner);
      this.queue.push(owner, queued);
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
      waiting.forgetWithdrawal();
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
      const lastIdle = idle.length === 1 && this.executors.length > 1;
      const next = this.queue.shiftWhere((owner) => !lastIdle || !this.keepsLastIdleFrom(owner));
      if (next === undefined) return;
      next.forgetWithdrawal();
      const executor = idle.find((candidate) => candidate.lastArtifact === next.job.message.artifactHash) ?? idle[0]!;
      this.running.set(next.owner, (this.running.get(next.owner) ?? 0) + 1);
      void executor.run(next.job).then((result) => {
        const left = this.running.get(next.owner)! - 1;
        if (left === 0) this.running.delete(next.owner);
        else this.running.set(next.owner, left);
        next.resolve(result);
        this.dispatch();
      });
    }
  }

  /**
   * Whether the last idle executor is kept from `owner`: it has a call running
   * and another tenant was about lately. Its wait ends when its running call
   * does, which dispatches again.
   */
  private keepsLastIdleFrom(owner: string): boolean {
    return this.running.has(owner) && this.recentOwners.othersWithin(owner, TENANT_SHARING_WINDOW_MS);
  }
}
