import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import type { ExecutorMessage, HostAnswer, HostCall, RunMessage, SupervisorMessage } from '../executor/executor-protocol.js';
import { decodePayload, encodeFrame, FrameAssembler } from '../executor/frame-codec.js';
import { failedResult, type PluginLogLine, type RunResult, type SandboxStatus } from '../outcome.js';

const EXECUTOR_SCRIPT = fileURLToPath(new URL('../executor/executor-main.js', import.meta.url));
const STDERR_TAIL_BYTES = 4096;

export interface ExecutorOptions {
  /** V8 heap of the executor (its JavaScript objects; wasm memories are capped by admission). */
  heapMb: number;
  moduleCacheBytes: number;
  instanceCacheBytes: number;
}

/** One call handed to an executor, with what it takes to serve its host calls. */
export interface ExecutorJob {
  message: RunMessage;
  artifactBytes: Uint8Array;
  timeoutMs: number;
  answerHostCall(call: HostCall): Promise<HostAnswer>;
}

interface ActiveJob {
  job: ExecutorJob;
  startedAt: number;
  timer: NodeJS.Timeout;
  /** The log lines the call kept so far, as the executor sent them. */
  logs: PluginLogLine[];
  /** The host call it waits on, and the fuel it had used when it asked; null while its own code runs. */
  waitingOn: { op: HostCall['op']; fuelUsed: number } | null;
  resolve(result: RunResult): void;
}

const failure = (status: SandboxStatus, message: string, startedAt: number): RunResult => failedResult(status, message, performance.now() - startedAt);

/**
 * A child process that runs plugin code, seen from the supervisor. It gets an
 * empty environment and no inherited file descriptors beyond its two pipes.
 * A call that outlives its wall-clock limit gets the process killed.
 */
export class ExecutorProcess {
  private readonly child: ChildProcess;
  private readonly toExecutor: Writable;
  private active: ActiveJob | null = null;
  private stderrTail = '';
  private exited = false;
  /** The artifact it ran last, to send calls of the same plugin back here. */
  lastArtifact: string | null = null;
  /** True once it said it is ready to take calls. */
  isReady = false;
  /** Set when the pool killed it on purpose (a timeout or stop). */
  killedOnPurpose = false;
  readonly exit: Promise<void>;
  readonly ready: Promise<void>;

  constructor(options: ExecutorOptions) {
    this.child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${options.heapMb}`,
        '--disallow-code-generation-from-strings',
        // Admission validated every module already; functions are still validated when first compiled.
        '--wasm-lazy-validation',
        EXECUTOR_SCRIPT,
        String(options.moduleCacheBytes),
        String(options.instanceCacheBytes),
      ],
      { env: {}, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], cwd: '/' },
    );
    this.toExecutor = this.child.stdio[3] as Writable;
    const fromExecutor = this.child.stdio[4] as Readable;
    this.toExecutor.on('error', () => undefined); // an executor that died is handled on exit
    (this.child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    let signalReady: () => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => {
      signalReady = resolve;
      failStart = reject;
    });
    const assembler = new FrameAssembler();
    fromExecutor.on('data', (chunk: Buffer) => {
      for (const frame of assembler.push(chunk)) {
        const message = decodePayload<ExecutorMessage>(frame);
        if (message.type === 'ready') {
          this.isReady = true;
          signalReady();
        }
        else this.onMessage(message);
      }
    });
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        failStart(new Error(`the executor exited at start (${signal ?? code}): ${this.stderrTail}`));
        const active = this.active;
        if (active !== null) {
          const ended = this.killedOnPurpose
            ? this.stoppedAtLimit(active)
            : failure('crashed', `the executor died during the call (${signal ?? `exit code ${code}`})${this.crashDetail()}`, active.startedAt);
          // The lines it wrote before it was stopped: what was happening when it ran too long.
          this.finish({ ...ended, logs: active.logs });
        }
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.active !== null;
  }

  get alive(): boolean {
    return !this.exited;
  }

  run(job: ExecutorJob): Promise<RunResult> {
    if (this.active !== null || this.exited) throw new Error('executor not available');
    return new Promise((resolve) => {
      const startedAt = performance.now();
      const timer = setTimeout(() => this.kill(), job.timeoutMs);
      this.active = { job, startedAt, timer, logs: [], waitingOn: null, resolve };
      this.lastArtifact = job.message.artifactHash;
      this.send(job.message);
    });
  }

  kill(): void {
    if (this.exited) return;
    this.killedOnPurpose = true;
    this.child.kill('SIGKILL');
  }

  /**
   * A call stopped at its time limit. Stopped while it waited on a host call, it had used what it said as it asked
   * (no code of its ran since); stopped in its own code, what it burned is not known: it is charged its whole budget.
   */
  private stoppedAtLimit(active: ActiveJob): RunResult {
    const waitingOn = active.waitingOn;
    const message = `the call ran past its ${active.job.timeoutMs} ms limit${waitingOn === null ? '' : ` waiting on its host call (${waitingOn.op})`}`;
    return { ...failure('timeout', message, active.startedAt), fuelUsed: waitingOn?.fuelUsed ?? active.job.message.limits.fuelPerCall };
  }

  private crashDetail(): string {
    const line = this.stderrTail.trim().split('\n').filter(Boolean).at(-1);
    return line === undefined ? '' : `: ${line.slice(0, 300)}`;
  }

  private send(message: SupervisorMessage): void {
    this.toExecutor.write(encodeFrame(message));
  }

  private finish(result: RunResult): void {
    const active = this.active;
    if (active === null) return;
    clearTimeout(active.timer);
    this.active = null;
    active.resolve(result);
  }

  /** Answers the call's host call, if that call is still the one running: its own code runs from here. */
  private answer(active: ActiveJob, answer: HostAnswer): void {
    if (this.active !== active) return;
    active.waitingOn = null;
    this.send(answer);
  }

  private onMessage(message: Exclude<ExecutorMessage, { type: 'ready' }>): void {
    const active = this.active;
    if (active === null) return;
    switch (message.type) {
      case 'logs':
        active.logs.push(...message.lines);
        break;
      case 'result':
        this.finish({ ...message.result, logs: active.logs });
        break;
      case 'need-module':
        this.send({ type: 'module', artifactHash: message.artifactHash, bytes: active.job.artifactBytes });
        break;
      case 'host-call':
        active.waitingOn = { op: message.call.op, fuelUsed: message.fuelUsed };
        active.job.answerHostCall(message.call).then(
          (answer) => this.answer(active, answer),
          (error: unknown) => this.answer(active, { type: 'host-answer', ok: false, status: 'host_error', message: error instanceof Error ? error.message : String(error) }),
        );
        break;
    }
  }
}
