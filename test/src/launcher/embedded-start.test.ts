import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../support/http-client.js';
import { boundPort } from '../support/airlock-processes.js';
import { freePort, type LauncherProcess, spawnLauncher } from '../support/launcher-process.js';
import { wat } from '../support/wasm.js';

const MIGRATE_CLI = fileURLToPath(new URL('../../../apps/launcher/dist/migrate-cli.js', import.meta.url));

describe('npm start with nothing configured', () => {
  let cwd: string;
  // Only a fresh Redis key prefix, so this run's keys cannot meet another's.
  const isolation = { AIRLOCK_REDIS_PREFIX: `airlock-test-${randomBytes(6).toString('hex')}`, LOG_LEVEL: 'warn' };

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-start-'));
  });
  after(() => rm(cwd, { recursive: true, force: true }));

  it('runs on the embedded database, prints the admin token once, and keeps data across restarts', async () => {
    // PORT=0: the system picks a free port, and the banner says which.
    const first = spawnLauncher(cwd, { PORT: '0', ...isolation });
    const banner = await first.running();
    const port = boundPort(banner);
    const adminToken = /admin token[^:]*: (at_[0-9a-f]{64})/.exec(banner)?.[1];
    assert.ok(adminToken, `an admin token is printed:\n${banner}`);
    assert.match(banner, /database: embedded PGlite in .*\.airlock/);
    assert.match(banner, /worker: ready/);
    assert.match(banner, new RegExp(`web editor: http://localhost:${port}/editor/`));

    let http = new HttpClient(`http://127.0.0.1:${port}`);
    const ready = await http.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.workers, 1, 'the worker runs in the same process');
    const editor = await http.get('/editor/');
    assert.equal(editor.status, 200, 'the web editor is served beside the API');
    assert.match(editor.text, /<title>Airlock editor<\/title>/);
    const tenant = await http.post('/v1/admin/tenants', { token: adminToken, body: { name: 'Persisted' } });
    assert.equal(tenant.status, 201);
    const key = await http.post(`/v1/admin/tenants/${tenant.body.id}/keys`, { token: adminToken });
    assert.equal(key.status, 201);
    assert.equal(await first.stop(), 0, 'SIGTERM stops it cleanly');

    const kept = await readdir(join(cwd, '.airlock'));
    assert.ok(kept.includes('pgdata') && kept.includes('admin-token.sha256'), kept.join(', '));
    const storedToken = await readFile(join(cwd, '.airlock', 'admin-token.sha256'), 'utf8');
    assert.ok(!storedToken.includes(adminToken.slice(3)), 'the token is kept hashed');

    const second = spawnLauncher(cwd, { PORT: '0', ...isolation });
    const secondBanner = await second.running();
    http = new HttpClient(`http://127.0.0.1:${boundPort(secondBanner)}`);
    try {
      assert.doesNotMatch(secondBanner, /admin token/, 'the token is printed on first start only');
      const tenants = await http.get('/v1/admin/tenants', { token: adminToken });
      assert.equal(tenants.status, 200, 'the same admin token works after a restart');
      assert.deepEqual(
        tenants.body.items.map((item: { name: string }) => item.name),
        ['Persisted'],
      );
      const me = await http.get('/v1/me', { token: key.body.key });
      assert.equal(me.body.id, tenant.body.id, 'keys survive a restart');
      // Uploads at once take turns in the embedded database too (one connection, a transaction each).
      const plugin = await http.post('/v1/plugins', { token: key.body.key, body: { name: 'numbered' } });
      const uploads = await Promise.all(
        [1, 2, 3].map((n) =>
          http.post(`/v1/plugins/${plugin.body.id}/versions`, {
            token: key.body.key,
            rawBody: { data: wat(`(module (func (export "run") (result i32) (i32.const ${n})))`), contentType: 'application/wasm' },
          }),
        ),
      );
      assert.deepEqual(uploads.map((upload) => upload.status), [201, 201, 201], uploads.map((upload) => upload.text).join('\n'));
      assert.deepEqual(uploads.map((upload) => upload.body.number).sort(), [1, 2, 3]);

      // A second start on the same data dir would split the embedded database in two: it is refused, and changes nothing.
      const intruder = spawnLauncher(cwd, { PORT: '0', ...isolation });
      const outcome = await Promise.race([intruder.exited(), intruder.running().then(() => 'running', () => 'exited')]);
      if (outcome === 'running') intruder.child.kill('SIGKILL');
      assert.equal(await intruder.exited(), 1, intruder.stdout());
      assert.match(intruder.stderr(), /\.airlock is in use by another Airlock process/);
      assert.doesNotMatch(intruder.stderr(), /\n\s+at /, 'no stack trace');
      assert.equal((await http.get('/readyz')).status, 200, 'the running one is untouched');
      // So is migrating its embedded database from beside it.
      const migrating = spawn(process.execPath, [MIGRATE_CLI], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...isolation } });
      let migrateErr = '';
      migrating.stderr.setEncoding('utf8').on('data', (chunk: string) => (migrateErr += chunk));
      const [migrateCode] = await once(migrating, 'exit');
      assert.equal(migrateCode, 1);
      assert.match(migrateErr, /\.airlock is in use by another Airlock process/);
      assert.equal((await http.get('/readyz')).status, 200);
      // What it keeps (tenants' data, the queue, the keys) is its user's only.
      for (const directory of ['.airlock', '.airlock/pgdata']) assert.equal((await stat(join(cwd, directory))).mode & 0o777, 0o700, directory);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it('stops when another process took its data dir while it stalled (its lock lapsed), leaving that one running', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    const stalled = spawnLauncher(fresh, { PORT: '0', ...isolation });
    let taker: LauncherProcess | undefined;
    try {
      await stalled.running();
      stalled.child.kill('SIGSTOP'); // a VM paused, or a thread blocked, for longer than the lock lasts
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      taker = spawnLauncher(fresh, { PORT: '0', ...isolation });
      const http = new HttpClient(`http://127.0.0.1:${boundPort(await taker.running())}`);
      stalled.child.kill('SIGCONT');
      assert.equal(await stalled.exited(), 1);
      assert.match(stalled.stderr(), /was lost .*another Airlock process took the data dir\. Stopping\./);
      assert.equal((await http.get('/readyz')).status, 200, 'the one that took it runs on');
    } finally {
      stalled.child.kill('SIGCONT');
      stalled.child.kill('SIGKILL');
      if (taker !== undefined) assert.equal(await taker.stop(), 0);
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses to start on bad configuration, listing every problem and echoing no secret', async () => {
    const launcher = spawnLauncher(cwd, {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db.example/airlock',
      AIRLOCK_ADMIN_TOKEN: 'short-secret',
      LOG_LEVEL: 'chatty',
    });
    assert.equal(await launcher.exited(), 1);
    const stderr = launcher.stderr();
    for (const variable of ['PORT', 'DATABASE_URL', 'AIRLOCK_ADMIN_TOKEN', 'LOG_LEVEL']) {
      assert.match(stderr, new RegExp(`- ${variable}: `), `${variable} is listed:\n${stderr}`);
    }
    assert.doesNotMatch(stderr, /short-secret/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('keeps no admin token nobody was shown: a first start that fails (its port taken) writes none', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const launcher = spawnLauncher(fresh, { HOST: '127.0.0.1', PORT: String(port), ...isolation });
      assert.equal(await launcher.exited(), 1);
      assert.match(launcher.stderr(), new RegExp(`Port ${port} on 127.0.0.1 is taken by another program`));
      assert.doesNotMatch(launcher.stderr(), /\n\s+at /, 'no stack trace');
      assert.ok(!(await readdir(join(fresh, '.airlock'))).includes('admin-token.sha256'), 'the next start makes and prints one');
    } finally {
      taken.close();
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('says which setting is wrong when it cannot listen where HOST says, without a stack trace', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    try {
      const launcher = spawnLauncher(fresh, { HOST: 'no-such-host.invalid', PORT: '0', ...isolation });
      assert.equal(await launcher.exited(), 1);
      assert.match(launcher.stderr(), /The API cannot listen on no-such-host\.invalid: no interface of this machine has that address \(HOST/);
      assert.doesNotMatch(launcher.stderr(), /\n\s+at /, 'no stack trace');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("says it is not ready, and why, while the embedded database's disk has less room than it keeps free", async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    // More free space than any disk has: the state of a full one, as /readyz sees it.
    const launcher = spawnLauncher(fresh, { PORT: '0', AIRLOCK_MIN_FREE_DISK_BYTES: String(2 ** 50), ...isolation });
    try {
      const http = new HttpClient(`http://127.0.0.1:${boundPort(await launcher.running())}`);
      const ready = await http.get('/readyz');
      assert.equal(ready.status, 503, ready.text);
      assert.equal(ready.body.error.code, 'not_ready');
      assert.match(ready.body.error.message, /^Not ready: the embedded database's disk has [\d.]+ MiB free, less than the 1073741824\.0 MiB kept free for it \(AIRLOCK_MIN_FREE_DISK_BYTES\)\.$/);
      assert.deepEqual(ready.body.error.details.checks, { database: 'down', redis: 'up' });
      assert.doesNotMatch(ready.text, new RegExp(fresh), 'the data directory is not shown to whoever asks');
      assert.equal((await http.get('/healthz')).status, 200, 'alive all the same');
    } finally {
      assert.equal(await launcher.stop(), 0);
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses to start the API alone on the embedded database, saying why', async () => {
    const launcher = spawnLauncher(cwd, { PORT: '0', ...isolation }, ['api']);
    assert.equal(await launcher.exited(), 1);
    assert.match(launcher.stderr(), /needs DATABASE_URL and REDIS_URL/);
  });

  it('waits for a Redis that does not answer, saying so, stops at once when asked meanwhile, and names a database it cannot open', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    const keys = { AIRLOCK_SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}` };
    try {
      const waiting = spawnLauncher(fresh, { DATABASE_URL: 'postgresql://127.0.0.1:5432/test', REDIS_URL: `redis://127.0.0.1:${await freePort()}`, ...keys, ...isolation }, ['worker']);
      for (let tries = 0; tries < 100 && !waiting.stderr().includes('Waiting for Redis (REDIS_URL) to answer'); tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.match(waiting.stderr(), /Waiting for Redis \(REDIS_URL\) to answer\. Start it, or fix REDIS_URL\./);
      assert.equal(await waiting.stop(), 0, waiting.stderr());
      assert.doesNotMatch(waiting.stderr(), /exiting anyway/);

      const unreachable = spawnLauncher(fresh, { DATABASE_URL: 'postgresql://127.0.0.1:1/test', REDIS_URL: 'redis://127.0.0.1:6379', ...keys, ...isolation }, ['worker']);
      assert.equal(await unreachable.exited(), 1);
      assert.match(unreachable.stderr(), /^PostgreSQL \(DATABASE_URL\) could not be opened: .*ECONNREFUSED/m);
      assert.doesNotMatch(unreachable.stderr(), /\n\s+at /, 'no stack trace');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses to start a worker alone without the secrets keys every process must share, saying how to make one', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    try {
      const servers = { DATABASE_URL: 'postgresql://127.0.0.1:5432/test', REDIS_URL: 'redis://127.0.0.1:6379' };
      const launcher = spawnLauncher(fresh, { ...servers, ...isolation }, ['worker']);
      assert.equal(await launcher.exited(), 1);
      assert.match(launcher.stderr(), /Starting the worker alone needs AIRLOCK_SECRETS_KEYS, the same for every API and worker process/);
      assert.doesNotMatch(launcher.stderr(), /\n\s+at /, 'no stack trace');
      assert.ok(!(await readdir(fresh)).includes('.airlock'), 'no key of its own was made');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
