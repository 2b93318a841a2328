import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('./https-downgrade.script.js', import.meta.url));
const run = promisify(execFile);

/**
 * Plugin HTTPS against a server whose certificate Node trusts: one made here
 * for `secure.test` and handed to a child process in NODE_EXTRA_CA_CERTS (read
 * only at a process's start, hence the child).
 */
describe('plugin HTTPS', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-tls-'));
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=secure.test',
      '-addext', 'subjectAltName=DNS:secure.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('fetches over TLS, and refuses a redirect from https to http before sending anything in clear', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT, join(dir, 'key.pem'), join(dir, 'cert.pem')], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
      timeout: 60_000,
    });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.deepEqual(seen.direct, { status: 'ok', output: 'over TLS', error: null }, 'the certificate is trusted: TLS itself works');
    assert.equal(seen.downgraded.status, 'http_refused');
    assert.match(seen.downgraded.error, /a redirect from https to http/);
    assert.equal(seen.plainRequests, 0, 'nothing reached the plain HTTP server');
  });
});
