import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { SandboxPolicy } from '../policy/sandbox-policy.schema.js';
import type { AdmissionResult } from './admit.js';

let pool: Piscina | undefined;

/**
 * Threads for admission, made on first use. Admitting a large module is
 * seconds of CPU (reading, validating and rewriting every function): on the
 * event loop of the API or the worker it would hold up every other tenant's
 * requests and jobs meanwhile. One core is left to the event loop; idle
 * threads end after a while (and never keep the process alive).
 */
function admissionPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL('./admission-thread.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, availableParallelism() - 1),
    idleTimeout: 30_000,
  });
  return pool;
}

/** `admit`, on a thread of its own: the caller's event loop stays free while a module is admitted. */
export async function admitOffThread(bytes: Uint8Array, policy: SandboxPolicy): Promise<AdmissionResult> {
  return (await admissionPool().run({ bytes, policy })) as AdmissionResult;
}
