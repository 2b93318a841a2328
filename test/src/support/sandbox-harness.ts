import assert from 'node:assert/strict';
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
