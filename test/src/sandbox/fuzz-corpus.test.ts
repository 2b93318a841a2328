import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { admit, SANDBOX_STATUSES, Sandbox, type SandboxStatus } from '@airlock/sandbox';
import { fuzzCorpus } from '../support/fuzz-corpus.js';
import { assertStillHealthy, context, policyWith } from '../support/sandbox-harness.js';

const MODULES = 1_000;

describe('binaryen fuzzer corpus', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 2 });
  });
  after(() => sandbox.stop());

  // Making the corpus takes minutes on a fresh machine (it is cached afterwards).
  it(`admits and runs ${MODULES} random valid modules without a host crash or a hang`, { timeout: 20 * 60_000 }, async () => {
    const corpus = await fuzzCorpus(MODULES, availableParallelism());
    const policy = policyWith({ fuelPerCall: 2_000_000, timeoutMs: 2_000 });
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    let index = 0;
    const runOne = async () => {
      while (index < corpus.length) {
        const bytes = corpus[index++]!;
        assert.equal(WebAssembly.validate(bytes as BufferSource), true, 'the fuzzer makes valid modules');
        const admission = admit(bytes, policy);
        if (!admission.ok) {
          count(`rejected:${admission.rejection.kind}`);
          continue;
        }
        const result = await sandbox.run(admission.artifact, 'run', 'fuzz input', context(policy, { instanceKey: `fuzz-${index}` }));
        assert.ok(SANDBOX_STATUSES.includes(result.status as SandboxStatus), result.status);
        count(result.status);
      }
    };
    await Promise.all([runOne(), runOne()]);
    const summary = Object.fromEntries([...outcomes].sort());
    console.log(`fuzz corpus outcomes: ${JSON.stringify(summary)}`);
    const admitted = MODULES - [...outcomes].filter(([key]) => key.startsWith('rejected:')).reduce((sum, [, n]) => sum + n, 0);
    assert.equal(admitted, MODULES, 'every valid module can be metered and admitted');
    assert.equal(outcomes.get('crashed') ?? 0, 0, 'no executor died');
    assert.equal(outcomes.get('host_error') ?? 0, 0);
    assert.ok((outcomes.get('timeout') ?? 0) === 0, 'fuel stops runaway code before the clock does');
    await assertStillHealthy(sandbox);
  });
});
