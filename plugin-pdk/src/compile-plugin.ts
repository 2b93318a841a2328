import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import pLimit, { type LimitFunction } from 'p-limit';
import { type CompileDiagnostic, type CompileResult, NESTS_TOO_DEEPLY, type PluginSource } from './compile-protocol.js';

const COMPILER = fileURLToPath(new URL('./compiler-process.js', import.meta.url));
/**
 * What a source file may be named: a relative `.ts` path of up to 203 letters, digits, `_ . - /`, each part starting
 * with a letter, digit or `_` (no empty part, as in `a//b.ts`, which the compiler would look for as `a/b.ts`), never
 * climbing out with `..`.
 */
export const SOURCE_FILE_NAME = /^(?=.{4,203}$)(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.ts$/;
export const SOURCE_FILE_NAME_RULE = 'relative .ts paths of letters, digits, _ . - and /, each part starting with a letter, digit or _';
/** Files one source may have: thousands would each be read, and stored and shown with the version. */
export const MAX_SOURCE_FILES = 500;
/** Bytes of names and text one source may have, by default. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

/** The bytes of a source's file names and texts, as UTF-8. */
export function sourceBytes(files: Record<string, string>): number {
  return Object.entries(files).reduce((total, [name, text]) => total + Buffer.byteLength(name) + Buffer.byteLength(text), 0);
}

export interface CompileOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Heap of the compiler process, default 512 MiB. */
  memoryMb?: number;
  /**
   * Memory the compiler process may hold in all, default twice its heap. The heap limit leaves out what lives
   * outside V8's heap, binaryen's (wasm) memory above all: `memory.data(0x7ff00000)` in three lines of source
   * grew a compiler to gigabytes while its heap stayed small.
   */
  maxResidentMb?: number;
  /** Total bytes of source accepted (file names and texts), default 1 MiB. */
  maxSourceBytes?: number;
  /**
   * Whose compile this is (a tenant): one owner's compiles run one at a time,
   * so that a burst of slow ones from one owner never takes every compiler
   * slot while others wait behind it.
   */
  owner?: string;
}

/**
 * Compiler processes running at once: one per core. More would only share the
 * cores, so that a burst of uploads would each take several times longer and
 * all run past their time limit together; a compile waits its turn instead,
 * and its time limit counts from its start.
 */
const compilerSlots = pLimit(availableParallelism());

/** Each owner's line to the compiler slots: one of its compiles waits for a slot at a time. */
const ownerLines = new Map<string, LimitFunction>();

/** Runs `compile` in its owner's line, then in a compiler slot; a line with nothing in it is forgotten. */
async function inOwnerLine<T>(owner: string | undefined, compile: () => Promise<T>): Promise<T> {
  if (owner === undefined) return compilerSlots(compile);
  let line = ownerLines.get(owner);
  if (line === undefined) ownerLines.set(owner, (line = pLimit(1)));
  try {
    return await line(() => compilerSlots(compile));
  } finally {
    if (line.activeCount === 0 && line.pendingCount === 0) ownerLines.delete(owner);
  }
}

function failure(message: string, file = ''): CompileResult {
  return { ok: false, diagnostics: [{ severity: 'error', file, line: 0, column: 0, message, code: 0 }] };
}

/**
 * Compiles an AssemblyScript plugin with the kit's release flags (-O3, incremental
 * GC, aborts reported as the call's error), in a separate process bounded in time
 * and memory. Never throws for a bad source: problems come back as diagnostics
 * with file, line and column.
 */
export async function compilePlugin(source: PluginSource, options: CompileOptions = {}): Promise<CompileResult> {
  const entry = source.entry ?? 'index.ts';
  const names = Object.keys(source.files);
  const badName = names.find((name) => !SOURCE_FILE_NAME.test(name));
  if (badName !== undefined) return failure(`"${badName}" is not an allowed file name: ${SOURCE_FILE_NAME_RULE}`, badName);
  if (!names.includes(entry)) return failure(`the entry file "${entry}" is not among the files`, entry);
  if (names.length > MAX_SOURCE_FILES) return failure(`the source has ${names.length} files; at most ${MAX_SOURCE_FILES} are compiled`);
  // Names count: 20,000 files of long names and no text would be megabytes, stored and shown with the version.
  const size = sourceBytes(source.files);
  const maxBytes = options.maxSourceBytes ?? MAX_SOURCE_BYTES;
  if (size > maxBytes) return failure(`the source is ${size} bytes; at most ${maxBytes} are compiled`);

  return inOwnerLine(options.owner, () => runCompiler(source.files, entry, options));
}

/** One compiler process for one source, killed at its time limit. */
async function runCompiler(files: PluginSource['files'], entry: string, options: CompileOptions): Promise<CompileResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, [`--max-old-space-size=${options.memoryMb ?? 512}`, COMPILER], {
    env: {},
    cwd: '/',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const maxResidentMb = options.maxResidentMb ?? 2 * (options.memoryMb ?? 512);
  let outgrew = false;
  const watch = watchResidentMemory(child.pid, maxResidentMb, () => {
    outgrew = true;
    child.kill('SIGKILL');
  });
  child.stdin.end(JSON.stringify({ files, entry }));
  // A compiler that could not start (no memory for a process) is a failed compile, not an error thrown at the caller.
  child.once('error', () => child.kill('SIGKILL'));
  child.stdin.on('error', () => undefined);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  clearTimeout(timer);
  clearInterval(watch);
  if (outgrew) return failure(`compilation used more than ${maxResidentMb} MiB of memory (a large memory.data or static array makes the compiler hold all of it)`);
  if (timedOut) return failure(`compilation took longer than ${timeoutMs} ms`);
  if (code !== 0) {
    const reason = /heap out of memory/i.test(stderr)
      ? 'compilation ran out of memory'
      : /Maximum call stack size exceeded/.test(stderr)
        ? NESTS_TOO_DEEPLY
        : `the compiler failed (${signal ?? `exit ${code}`})`;
    return failure(reason);
  }
  const parsed = JSON.parse(stdout) as { ok: boolean; wasm?: string; diagnostics: CompileDiagnostic[] };
  return parsed.ok
    ? { ok: true, wasm: new Uint8Array(Buffer.from(parsed.wasm!, 'base64')), diagnostics: parsed.diagnostics }
    : { ok: false, diagnostics: parsed.diagnostics };
}

/** How often the compiler's resident memory is read. */
const MEMORY_CHECK_MS = 50;

/**
 * Calls `outgrown` once the process holds more than `maxMb` MiB of memory, read
 * from /proc (Linux; elsewhere only the heap limit and the time limit hold).
 */
function watchResidentMemory(pid: number | undefined, maxMb: number, outgrown: () => void): NodeJS.Timeout {
  let reading = false;
  const watch = setInterval(() => {
    if (pid === undefined || reading) return;
    reading = true;
    readFile(`/proc/${pid}/status`, 'utf8')
      .then((status) => {
        const residentKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
        if (residentKb > maxMb * 1024) {
          clearInterval(watch);
          outgrown();
        }
      })
      // Gone already (it exited), or no /proc here; another failure to read (no file handles) is tried again.
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ESRCH') clearInterval(watch);
      })
      .finally(() => (reading = false));
  }, MEMORY_CHECK_MS);
  return watch;
}
