import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('./without-local-redis.script.js', import.meta.url));

/**
 * The machine's Redis answers on 127.0.0.1:6379, so the launcher's fallback is
 * exercised in a new network namespace (`unshare --net`), whose loopback has
 * nothing listening.
 */
async function runIsolated(cwd: string, mode: 'start' | 'no-binary'): Promise<Record<string, any>> {
  const { stdout } = await promisify(execFile)('unshare', ['--net', '--', process.execPath, SCRIPT, cwd, mode], {
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('npm start where no Redis answers on 127.0.0.1:6379', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-noredis-'));
  });
  after(() => rm(cwd, { recursive: true, force: true }));

  it('starts a private redis-server, serves, and stops it on exit', async () => {
    const seen = await runIsolated(cwd, 'start');
    assert.match(seen.banner, /redis: private redis-server/);
    assert.equal(seen.readyStatus, 200);
    assert.equal(seen.tenantStatus, 201);
    assert.equal(seen.redisRunningBeforeStop, true);
    assert.equal(seen.exitCode, 0);
    assert.equal(seen.redisRunningAfterStop, false, 'the private Redis stops with Airlock');
  });

  it('exits with a sentence saying how to install Redis when there is no redis-server', async () => {
    const seen = await runIsolated(cwd, 'no-binary');
    assert.equal(seen.exitCode, 1);
    assert.match(seen.stderr, /Install Redis \(Debian\/Ubuntu: "sudo apt-get install redis-server"/);
  });
});
