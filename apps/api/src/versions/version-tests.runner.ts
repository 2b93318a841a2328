import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import { TenantQuotaGateRepository } from '@airlock/queue';
import type { AdmittedArtifact, RunResult, Sandbox, SandboxPolicy } from '@airlock/sandbox';
import type { z } from 'zod';
import { SANDBOX } from '../infrastructure/api-dependencies.js';
import { passQuotaGate } from '../policies/quota-verdicts.js';
import type { DeclaredTest, testResultSchema } from './version.schema.js';

export type TestResult = z.infer<typeof testResultSchema>;

export interface TestCall {
  name: string;
  export: string;
  input?: string | undefined;
  inputJson?: unknown;
  /** `inputJson` as it was sent, when it came in this request (see withInputAsSent): what the plugin reads. */
  inputJsonText?: string | undefined;
  inputBase64?: string | undefined;
  config?: Record<string, string> | undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function inputBytes(call: TestCall): Uint8Array {
  if (call.inputBase64 !== undefined) return new Uint8Array(Buffer.from(call.inputBase64, 'base64'));
  if (call.inputJsonText !== undefined) return new TextEncoder().encode(call.inputJsonText);
  if (call.inputJson !== undefined) return new TextEncoder().encode(JSON.stringify(call.inputJson));
  return new TextEncoder().encode(call.input ?? '');
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The most of an output (or of what was expected) a failure quotes: the whole output is in the result, up to megabytes. */
const QUOTED_CHARACTERS = 500;

/** `text` cut to QUOTED_CHARACTERS, saying how much was left out. */
function cut(text: string): string {
  return text.length <= QUOTED_CHARACTERS ? text : `${text.slice(0, QUOTED_CHARACTERS)}… (${text.length - QUOTED_CHARACTERS} more characters)`;
}

/** What a declared test expected and did not get. */
function failuresOf(test: DeclaredTest, result: RunResult, output: string | null): string[] {
  const failures: string[] = [];
  const { expect } = test;
  if (result.status !== expect.status) failures.push(`status: expected ${expect.status}, got ${result.status}${result.error ? ` (${result.error.message})` : ''}`);
  if (expect.output !== undefined && output !== expect.output) failures.push(`output: expected ${cut(JSON.stringify(expect.output))}, got ${cut(JSON.stringify(output))}`);
  if (expect.outputJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output ?? '');
    } catch {
      failures.push('outputJson: the output is not JSON');
    }
    // The output is quoted as the plugin wrote it: written out again, JSON nested some thousands deep would overflow
    // the stack (what was expected nests 64 deep at most, and the comparison goes no deeper than that).
    if (parsed !== undefined && !isDeepStrictEqual(parsed, expect.outputJson)) {
      failures.push(`outputJson: expected ${cut(JSON.stringify(expect.outputJson))}, got ${cut(output!)}`);
    }
  }
  if (expect.maxFuel !== undefined && result.fuelUsed > expect.maxFuel) failures.push(`fuel: expected at most ${expect.maxFuel}, used ${result.fuelUsed}`);
  return failures;
}

/**
 * Runs a version's declared tests (or one ad-hoc call) in the sandbox, under
 * the tenant's policy and quotas: a run counts as an event per second, is
 * refused once the day's fuel is spent, and its fuel is charged.
 */
@Injectable()
export class VersionTestsRunner {
  constructor(
    @Inject(SANDBOX) private readonly sandbox: Sandbox,
    private readonly quotaGate: TenantQuotaGateRepository,
  ) {}

  async run(
    artifact: AdmittedArtifact,
    calls: Array<{ call: TestCall; expect?: DeclaredTest }>,
    scope: { tenantId: string; pluginId: string; policy: SandboxPolicy },
  ): Promise<TestResult[]> {
    await passQuotaGate(() => this.quotaGate.admitTestRun(scope.tenantId, scope.policy.quotas));
    const results: TestResult[] = [];
    try {
      await this.runInOrder(artifact, calls, scope, results);
    } finally {
      const fuel = results.reduce((sum, result) => sum + BigInt(result.fuelUsed), 0n);
      await this.quotaGate.chargeFuel(scope.tenantId, fuel).catch(() => undefined);
    }
    return results;
  }

  private async runInOrder(
    artifact: AdmittedArtifact,
    calls: Array<{ call: TestCall; expect?: DeclaredTest }>,
    scope: { tenantId: string; pluginId: string; policy: SandboxPolicy },
    results: TestResult[],
  ): Promise<void> {
    // One after another: tests may share the plugin's state (vars, KV) in order.
    for (const { call, expect } of calls) {
      const result = await this.sandbox.run(artifact, call.export, inputBytes(call), {
        tenantId: scope.tenantId,
        pluginId: scope.pluginId,
        policy: scope.policy,
        config: call.config ?? {},
        instanceKey: `test:${scope.tenantId}:${scope.pluginId}:${artifact.artifactHash}:${call.name}`,
      });
      const output = utf8(result.output);
      const failures = expect === undefined ? [] : failuresOf(expect, result, output);
      results.push({
        name: call.name,
        passed: expect === undefined ? result.status === 'ok' : failures.length === 0,
        failures,
        status: result.status,
        output,
        outputBase64: Buffer.from(result.output).toString('base64'),
        error: result.error ?? null,
        fuelUsed: result.fuelUsed,
        memoryPeakBytes: result.memoryPeakBytes,
        durationMs: Math.round(result.durationMs * 1000) / 1000,
        logs: result.logs,
      });
    }
  }
}
