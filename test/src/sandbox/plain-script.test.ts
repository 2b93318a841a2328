import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { wat } from '../support/wasm.js';

const EXAMPLE = fileURLToPath(new URL('../../../libs/sandbox/example.mjs', import.meta.url));
const run = (...args: string[]) => promisify(execFile)(process.execPath, [EXAMPLE, ...args]);

describe('libs/sandbox from a plain script (the README example)', () => {
  it('admits and runs the built-in plugin', async () => {
    const { stdout } = await run();
    assert.match(stdout, /^admitted [0-9a-f]{12}: exports greet; permissions \[\]$/m);
    assert.match(stdout, /^status: ok$/m);
    assert.match(stdout, /^output: hello, world$/m);
  });

  it('reports a refused module with its reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-example-'));
    try {
      const path = join(dir, 'system.wasm');
      await writeFile(path, wat('(module (import "env" "system" (func (param i32) (result i32))))'));
      await assert.rejects(run(path), (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /refused \(forbidden_import\): .*"env" "system"/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
