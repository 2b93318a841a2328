// The executor: a process that runs plugin code and nothing else. It is started
// by the supervisor with an empty environment and a bounded heap, holds no
// credentials, and talks only through two pipes (fd 3 in, fd 4 out).
import type { HttpResponseSpec, KernelHost } from '../kernel/extism-kernel.js';
import { CallAbort } from '../kernel/limit-errors.js';
import { failedResult, type PluginLogLine, type RunResult } from '../outcome.js';
import { BlockingChannel } from './blocking-channel.js';
import type { ExecutorMessage, HostAnswer, HostCall, ModuleMessage, RunMessage } from './executor-protocol.js';
import { getHeapStatistics } from 'node:v8';
import { readModuleLayout } from '../wasm/module-layout.js';
import { LruCache } from './lru-cache.js';
import { PluginInstance } from './plugin-instance.js';

const MODULE_CACHE_BYTES = Number(process.argv[2] ?? 64 * 1024 * 1024);
const INSTANCE_CACHE_BYTES = Number(process.argv[3] ?? 512 * 1024 * 1024);

const channel = new BlockingChannel(3, 4);
const send = (message: ExecutorMessage) => channel.send(message);
/**
 * What a funcref table element may take of the heap (about 27 bytes measured): a warm instance's tables count in the
 * instance cache, or many instances with large tables (up to a tier's maxTableElements) would exhaust the heap.
 */
const TABLE_ELEMENT_BYTES = 32;

/** A compiled module, and what the tables of each of its instances may come to (their maxima, admission caps them). */
interface CompiledModule {
  module: WebAssembly.Module;
  tableBytes: number;
}

const modules = new LruCache<string, CompiledModule>(MODULE_CACHE_BYTES);
const instances = new LruCache<string, PluginInstance>(INSTANCE_CACHE_BYTES);
/**
 * How much a byte on the executor's own heap (tables, vars) counts in the instance cache, against a byte of linear
 * memory (which lives outside it): so weighed, what warm instances keep on the heap stays within half of it, however
 * large the cache's budget for linear memory.
 */
const HEAP_BYTE_WEIGHT = Math.max(1, INSTANCE_CACHE_BYTES / (getHeapStatistics().heap_size_limit / 2));

function ask(call: HostCall, fuelUsed: number): unknown {
  send({ type: 'host-call', call, fuelUsed });
  const answer = channel.receive<HostAnswer>();
  if (!answer.ok) throw new CallAbort(answer.status, answer.message);
  return answer.value;
}

const host: KernelHost = {
  http: (request, fuelUsed) => ask({ op: 'http', request }, fuelUsed) as HttpResponseSpec,
  kvGet: (key, fuelUsed) => ask({ op: 'kvGet', key }, fuelUsed) as Uint8Array | null,
  kvSet: (key, value, fuelUsed) => void ask({ op: 'kvSet', key, value }, fuelUsed),
  kvDelete: (key, fuelUsed) => void ask({ op: 'kvDelete', key }, fuelUsed),
  logKept: (line) => {
    pendingLogs.push(line);
    if (pendingLogs.length >= LOG_BATCH_LINES || performance.now() - lastLogSend >= LOG_BATCH_MS) sendLogs();
  },
};

/**
 * Kept log lines go to the supervisor in batches: a message a line cost the supervisor's event loop, which every
 * tenant's calls share, ~6 µs a line (60 ms a call of 10,000 lines). A line after a quiet spell goes at once, with
 * what waited, so the line a plugin writes before it hangs reaches the supervisor; in a burst, lines go every
 * LOG_BATCH_LINES lines or LOG_BATCH_MS, so a call killed at its time limit may lose only its last burst's.
 */
const LOG_BATCH_LINES = 64;
const LOG_BATCH_MS = 10;
const pendingLogs: PluginLogLine[] = [];
let lastLogSend = Number.NEGATIVE_INFINITY;
function sendLogs(): void {
  if (pendingLogs.length > 0) send({ type: 'logs', lines: pendingLogs.splice(0) });
  lastLogSend = performance.now();
}

/** Sends a call's result; its log lines went before it, in batches. */
function sendResult(result: RunResult): void {
  sendLogs();
  send({ type: 'result', result: { ...result, logs: [] } });
}

function moduleFor(artifactHash: string): CompiledModule {
  const cached = modules.get(artifactHash);
  if (cached !== undefined) return cached;
  send({ type: 'need-module', artifactHash });
  const { bytes } = channel.receive<ModuleMessage>();
  const module = new WebAssembly.Module(bytes as BufferSource);
  const elements = readModuleLayout(bytes).tables.reduce((sum, limits) => sum + Number(limits.maximum ?? limits.initial), 0);
  const compiled = { module, tableBytes: elements * TABLE_ELEMENT_BYTES };
  modules.set(artifactHash, compiled, bytes.length);
  return compiled;
}

function run(message: RunMessage): void {
  // A call's first line goes at once, however soon after the last call's lines.
  lastLogSend = Number.NEGATIVE_INFINITY;
  let instance = instances.get(message.instanceKey);
  if (instance === undefined) {
    let compiled: CompiledModule;
    try {
      compiled = moduleFor(message.artifactHash);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      sendResult(failedResult('invalid_module', text));
      return;
    }
    const created = PluginInstance.create(compiled.module, message.limits, host, compiled.tableBytes);
    if (!(created instanceof PluginInstance)) {
      sendResult(created);
      return;
    }
    instance = created;
  }
  const result = instance.call(message.exportName, message.input, message.config, message.limits);
  if (instance.reusable) instances.set(message.instanceKey, instance, instance.cacheBytes(HEAP_BYTE_WEIGHT));
  else instances.delete(message.instanceKey);
  sendResult(result);
}

send({ type: 'ready' });
for (;;) {
  let message: RunMessage;
  try {
    message = channel.receive<RunMessage>();
  } catch {
    process.exit(0); // the supervisor has gone
  }
  run(message);
}
