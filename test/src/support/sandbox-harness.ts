import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { admit, type AdmittedArtifact, loadTier, type RunContext, type Sandbox, type SandboxPolicy } from '@airlock/sandbox';
import { WELL_BEHAVED } from './wasm.js';

export const freeTier: SandboxPolicy = await loadTier('free');

/** A policy derived from the free tier, with some limits changed. */
export function policyWith(overrides: Partial<SandboxPolicy>): SandboxPolicy {
  return { ...freeTier, ...overrides };
}

export function admitted(bytes: Uint8Array, policy: SandboxPolicy = freeTier): AdmittedArtifact {
  const result = admit(bytes, policy);
  if (!result.ok) assert.fail(`expected the module to be admitted: ${result.rejection.reason}`);
  return result.artifact;
}

export function context(policy: SandboxPolicy = freeTier, overrides: Partial<RunContext> = {}): RunContext {
  return { tenantId: 'tenant-a', pluginId: 'plugin-a', policy, ...overrides };
}

const wellBehaved = admitted(WELL_BEHAVED);

/** Asserts the sandbox still serves a well-behaved plugin, correctly, after whatever came before. */
export async function assertStillHealthy(sandbox: Sandbox): Promise<void> {
  const result = await sandbox.run(wellBehaved, 'greet', 'again', context());
  assert.equal(result.status, 'ok', result.error?.message);
  assert.equal(Buffer.from(result.output).toString(), 'hello, again');
}

/**
 * Kills, with SIGKILL, the executor that is running a call (the one on a CPU),
 * once the plugin is well into its loop (not still being instantiated); fails
 * if none is seen busy within two seconds.
 */
export async function killBusyExecutor(sandbox: Pick<Sandbox, 'executorPids'>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let tries = 0; tries < 100; tries++) {
    for (const pid of sandbox.executorPids()) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (stat.split(' ')[2] === 'R') {
        process.kill(pid, 'SIGKILL');
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('no executor was busy');
}
