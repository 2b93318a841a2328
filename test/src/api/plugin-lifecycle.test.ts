import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { InvocationRepository } from '@airlock/db';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileTemplate, TEMPLATES_DIR } from '../support/pdk.js';
import { publishAndBind } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { WELL_BEHAVED, wat } from '../support/wasm.js';

const wasmBody = (bytes: Uint8Array) => ({ rawBody: { data: bytes, contentType: 'application/wasm' } });

describe('plugin lifecycle over HTTP', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let bob: TenantSession;
  let hello: Uint8Array;
  let pluginId: string;

  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
    hello = await compileTemplate('hello');
  });
  after(() => api.close());

  const as = (session: TenantSession) => ({ token: session.key });

  it('creates, lists and names plugins uniquely per tenant', async () => {
    const created = await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'greeter', description: 'Says hello' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'greeter');
    pluginId = created.body.id;
    const duplicate = await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'greeter' } });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'conflict');
    assert.equal((await api.http.post('/v1/plugins', { ...as(bob), body: { name: 'greeter' } })).status, 201, 'names are per tenant');
    const invalid = await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'Not Valid!' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details.issues[0].field, 'name');
    const listed = await api.http.get('/v1/plugins', as(alice));
    assert.deepEqual(listed.body.items.map((plugin: { name: string }) => plugin.name), ['greeter']);

    // At once: one name is created once, and the plugin limit holds.
    const carol = await createTenantSession(api, 'Carol');
    await api.http.request('PUT', `/v1/admin/tenants/${carol.tenantId}/quota`, { token: api.adminToken, body: { overrides: { maxPlugins: 3 } } });
    const sameName = await Promise.all(Array.from({ length: 6 }, () => api.http.post('/v1/plugins', { ...as(carol), body: { name: 'twin' } })));
    assert.deepEqual(sameName.map((response) => response.status).sort(), [201, 409, 409, 409, 409, 409]);
    const many = await Promise.all(Array.from({ length: 6 }, (_, n) => api.http.post('/v1/plugins', { ...as(carol), body: { name: `many-${n}` } })));
    assert.deepEqual(many.map((response) => response.status).sort(), [201, 201, 409, 409, 409, 409]);
    assert.equal(many.find((response) => response.status === 409)!.body.error.code, 'limit_reached', 'not a 429: waiting cannot help');
    assert.equal((await api.http.get('/v1/plugins', as(carol))).body.items.length, 3);
  });

  it('stores an uploaded module as an immutable, content-addressed version', async () => {
    const first = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(hello) });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.number, 1);
    assert.equal(first.body.sizeBytes, hello.length);
    assert.deepEqual(first.body.exports, ['greet']);
    assert.match(first.body.sha256, /^[0-9a-f]{64}$/);
    assert.equal(first.body.status, 'draft');
    assert.equal(first.body.createdBy, `key:${alice.keyId}`);

    const again = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(hello) });
    assert.equal(again.status, 200, 'identical bytes return the existing version');
    // Nothing sent, whatever the type says: an empty body, not one of a wrong type.
    for (const contentType of ['application/wasm', 'application/json']) {
      const empty = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), rawBody: { data: new Uint8Array(0), contentType } });
      assert.equal(empty.status, 400, `${contentType}: ${empty.text}`);
      assert.deepEqual([empty.body.error.code, empty.body.error.message], ['validation_failed', "The request body is empty: send the module's bytes as application/wasm, or JSON as application/json."]);
    }
    assert.equal(again.body.number, 1);

    const download = await fetch(`${api.baseUrl}/v1/plugins/${pluginId}/versions/1/wasm`, { headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(download.headers.get('content-type'), 'application/wasm');
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), hello);
  });

  it('numbers versions uploaded at once one after another, and keeps to the version limit', async () => {
    const module = (n: number) => wat(`(module (func (export "run") (result i32) (i32.const ${n})))`);
    const dana = await createTenantSession(api, 'Dana');
    const upload = async (name: string, modules: Uint8Array[]) => {
      const plugin = (await api.http.post('/v1/plugins', { ...as(dana), body: { name } })).body.id as string;
      return Promise.all(modules.map((bytes) => api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(dana), ...wasmBody(bytes) })));
    };
    const free = await upload('many-at-once', Array.from({ length: 8 }, (_, n) => module(n)));
    assert.deepEqual(free.map((response) => response.status), Array(8).fill(201), free.map((response) => response.text).join('\n'));
    assert.deepEqual(free.map((response) => response.body.number).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);

    await api.http.request('PUT', `/v1/admin/tenants/${dana.tenantId}/quota`, { token: api.adminToken, body: { overrides: { maxVersionsPerPlugin: 3 } } });
    const limited = await upload('limited', Array.from({ length: 6 }, (_, n) => module(100 + n)));
    assert.deepEqual(limited.map((response) => response.status).sort(), [201, 201, 201, 409, 409, 409]);
    assert.deepEqual(limited.filter((response) => response.status === 409).map((response) => response.body.error.details.limit), Array(3).fill('maxVersionsPerPlugin'));
    // The same module twice at once is one version.
    const twice = await upload('same-bytes', [module(7), module(7)]);
    assert.deepEqual(twice.map((response) => response.body.number), [1, 1]);
  });

  it('accepts gzip within the body limit and refuses a bomb past it', async () => {
    const other = wat('(module (func (export "run") (result i32) (i32.const 0)))');
    const gzipped = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      ...wasmBody(gzipSync(other)),
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(gzipped.status, 201, gzipped.text);
    assert.equal(gzipped.body.sizeBytes, other.length, 'stored inflated');
    // x-gzip is gzip (RFC 9110), as older clients name it.
    const xGzipped = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(gzipSync(other)), headers: { 'content-encoding': 'x-gzip' } });
    assert.deepEqual([xGzipped.status, xGzipped.body.number], [200, gzipped.body.number], xGzipped.text);
    // Read no further than the tenant's tier allows a module (2 MiB on the free tier), not to the server's 64 MiB.
    const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024));
    assert.ok(bomb.length < 200 * 1024);
    const refused = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(bomb), headers: { 'content-encoding': 'gzip' } });
    assert.equal(refused.status, 413);
    assert.equal(refused.body.error.code, 'payload_too_large');
    assert.equal(refused.body.error.message, "The request body is larger than the 2097152 bytes this tenant's tier allows a module (maxModuleBytes), once inflated.");
  });

  it('compiles AssemblyScript source, and reports compile errors with line and column', async () => {
    const source = await readFile(new URL('kv-counter.ts', TEMPLATES_DIR), 'utf8');
    const compiled = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      body: { language: 'assemblyscript', source: { files: { 'index.ts': source } } },
    });
    assert.equal(compiled.status, 201, compiled.text);
    assert.equal(compiled.body.sourceLanguage, 'assemblyscript');
    assert.deepEqual(compiled.body.permissions, ['kv']);
    assert.equal(compiled.body.source.files['index.ts'], source);

    const broken = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      body: { language: 'assemblyscript', source: { files: { 'index.ts': 'export function run(): i32 {\n  return (1 +;\n}\n' } } },
    });
    assert.equal(broken.status, 422);
    assert.equal(broken.body.error.code, 'compile_failed');
    assert.match(broken.body.error.message, /^The source does not compile: index\.ts:2:\d+: /);
    assert.equal(broken.body.error.details.diagnostics[0].line, 2);

    // What the body gets wrong is named, with what is allowed, before any compiling.
    const cobol = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { language: 'cobol', source: { files: { 'index.ts': source } } } });
    assert.equal(cobol.status, 400, cobol.text);
    assert.deepEqual(cobol.body.error.details.issues, [{ field: 'language', message: 'Invalid input: expected "assemblyscript"' }]);
    const climbing = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      body: { language: 'assemblyscript', source: { files: { 'index.ts': source, '../x.ts': '' } } },
    });
    assert.equal(climbing.status, 400, climbing.text);
    assert.equal(climbing.body.error.details.issues[0].field, 'source.files.../x.ts');
    assert.match(climbing.body.error.details.issues[0].message, /relative \.ts paths/);
    // The form a body is of is the one whose fields it has: a source whose entry is misnamed too is told both, by field.
    const misnamed = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      body: { language: 'assemblyscript', source: { files: { '../x.ts': '' }, entry: '../x.ts' } },
    });
    assert.equal(misnamed.status, 400, misnamed.text);
    assert.deepEqual(misnamed.body.error.details.issues.map((issue: { field: string }) => issue.field), ['source.files.../x.ts', 'source.entry']);
    // The entry must be one of the files; a file name has no empty part (the compiler would look for `a/b.ts`); at most
    // 500 files.
    const sourceCases: Array<[Record<string, unknown>, { field: string; message: string }]> = [
      [{ files: { 'main.ts': source } }, { field: 'source.entry', message: 'there is no index.ts, the entry when none is named: send it, or name the entry' }],
      [{ files: {} }, { field: 'source.entry', message: 'there is no index.ts, the entry when none is named: send it, or name the entry' }],
      [{ files: { 'index.ts': source }, entry: 'other.ts' }, { field: 'source.entry', message: '"other.ts" is not among the files' }],
      [{ files: { 'index.ts': source, 'a//b.ts': '' } }, { field: 'source.files.a//b.ts', message: 'must be a file name the compiler takes: relative .ts paths of letters, digits, _ . - and /, each part starting with a letter, digit or _' }],
      [{ files: Object.fromEntries(Array.from({ length: 501 }, (_, n) => [n === 0 ? 'index.ts' : `f${n}.ts`, ''])) }, { field: 'source.files', message: 'at most 500 files' }],
      // Names count with texts: 1 MiB in all.
      [{ files: { 'index.ts': 'é'.repeat(400_000), [`${'n'.repeat(197)}.ts`]: 'x'.repeat(248_369) } }, { field: 'source.files', message: '1048577 bytes of names and text; at most 1048576' }],
    ];
    for (const [sent, issue] of sourceCases) {
      const refused = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { language: 'assemblyscript', source: sent } });
      assert.equal(refused.status, 400, refused.text);
      assert.deepEqual(refused.body.error.details.issues, [issue]);
    }
    // One of no form at all is told every form.
    const formless = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: {} });
    assert.equal(formless.status, 400, formless.text);
    assert.equal(formless.body.error.details.issues[0].field, 'body');
    assert.match(formless.body.error.message, /matches none of its forms: .*"assemblyscript".*; or .*string/);
    // Declared tests each have a name of their own (a failed publish names them), and call a function the module has.
    const tests = (names: string[], exportName = 'greet') => names.map((name) => ({ name, export: exportName, input: 'a' }));
    const hello64 = Buffer.from(await compileTemplate('hello')).toString('base64');
    const twins = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { wasmBase64: hello64, tests: tests(['t', 'u', 't']) } });
    assert.equal(twins.status, 400, twins.text);
    assert.deepEqual(twins.body.error.details.issues, [{ field: 'tests.2.name', message: 'another test is named "t"; each needs its own name' }]);
    const nowhere = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { wasmBase64: hello64, tests: [...tests(['t']), ...tests(['u'], 'nope')] } });
    assert.equal(nowhere.status, 400, nowhere.text);
    assert.deepEqual(nowhere.body.error.details.issues, [{ field: 'tests.1.export', message: 'the module exports no function "nope" (it exports greet)' }]);
  });

  it('refuses a module the tenant\'s policy forbids, naming the import', async () => {
    const system = wat('(module (import "env" "system" (func (param i32) (result i32))) (func (export "run") (result i32) (i32.const 0)))');
    const refused = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(system) });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'module_rejected');
    assert.match(refused.body.error.message, /"env" "system"/);
    assert.equal(refused.body.error.details.kind, 'forbidden_import');
    const wrongType = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), rawBody: { data: 'x', contentType: 'text/plain' } });
    assert.equal(wrongType.status, 415);
  });

  it('runs declared tests, refuses to publish on a failure, and publishes when they pass', async () => {
    const tests = [
      { name: 'greets', export: 'greet', input: 'Ada', expect: { output: 'hello, Ada' } },
      { name: 'wrong on purpose', export: 'greet', input: 'Bob', expect: { output: 'bonjour, Bob' } },
    ];
    const failing = await api.http.post(`/v1/plugins/${pluginId}/versions`, {
      ...as(alice),
      body: { wasmBase64: Buffer.from(await compileTemplate('hello')).toString('base64'), tests },
    });
    assert.equal(failing.status, 409, 'the same bytes as version 1, with other tests: refused rather than dropped');
    assert.match(failing.body.error.message, /^It is the same module as version 1, .* The declared tests were not saved/);
    const again = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { wasmBase64: Buffer.from(await compileTemplate('hello')).toString('base64') } });
    assert.deepEqual([again.status, again.body.number], [200, 1], 'without tests, the same bytes are version 1 again');

    const plugin2 = (await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'tested' } })).body.id;
    const withTests = await api.http.post(`/v1/plugins/${plugin2}/versions`, { ...as(alice), body: { wasmBase64: Buffer.from(hello).toString('base64'), tests } });
    assert.equal(withTests.status, 201);
    const run = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, as(alice));
    assert.equal(run.status, 200);
    assert.equal(run.body.passed, false);
    assert.deepEqual(run.body.results.map((r: { name: string; passed: boolean }) => [r.name, r.passed]), [['greets', true], ['wrong on purpose', false]]);
    assert.equal(run.body.results[1].failures[0], 'output: expected "bonjour, Bob", got "hello, Bob"');
    assert.ok(run.body.results[0].fuelUsed > 0);

    const refused = await api.http.post(`/v1/plugins/${plugin2}/versions/1/publish`, as(alice));
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'tests_failed');
    assert.deepEqual(refused.body.error.details.results.map((r: { name: string }) => r.name), ['wrong on purpose']);
    assert.equal((await api.http.get(`/v1/plugins/${plugin2}/versions/1`, as(alice))).body.status, 'draft');

    const adHoc = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, { ...as(alice), body: { export: 'greet', input: 'you' } });
    assert.equal(adHoc.body.results[0].output, 'hello, you');
    // An export the module lacks is the request's mistake, as a declared test's is at upload: nothing runs.
    const noSuchExport = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, { ...as(alice), body: { export: 'gret' } });
    assert.equal(noSuchExport.status, 400, noSuchExport.text);
    assert.deepEqual(noSuchExport.body.error.details.issues, [{ field: 'export', message: 'version 1 exports no function "gret" (it exports greet)' }]);
    // JSON input reaches the plugin as it was written: digits a double would change, index-like keys in their order.
    const exact = '{"id": 12345678901234567890, "big": 1e400, "2": "b", "1": "a"}';
    const asWritten = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, {
      ...as(alice),
      rawBody: { data: `{"export": "greet", "inputJson": ${exact}}`, contentType: 'application/json' },
    });
    assert.equal(asWritten.body.results[0].output, `hello, ${exact}`, asWritten.text);
    const nested = (depth: number) => `{"export": "greet", "inputJson": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const deep = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, { ...as(alice), rawBody: { data: nested(1000), contentType: 'application/json' } });
    assert.equal(deep.body.results?.[0]?.output, `hello, ${'['.repeat(1000)}${']'.repeat(1000)}`, 'as deep as a payload may be');
    const tooDeep = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, { ...as(alice), rawBody: { data: nested(1001), contentType: 'application/json' } });
    assert.equal(tooDeep.status, 400, tooDeep.text);
    assert.deepEqual(tooDeep.body.error.details.issues, [{ field: 'inputJson', message: 'nests more than 1000 deep; send it as inputBase64' }]);
    // Test calls count against the free tier's 5 events a second: the calls below get a second of their own.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Two inputs for one call: which was meant is not known.
    const twoInputs = await api.http.post(`/v1/plugins/${plugin2}/versions/1/test`, { ...as(alice), body: { export: 'greet', input: 'Alice', inputBase64: 'Qm9i' } });
    assert.equal(twoInputs.status, 400, twoInputs.text);
    assert.deepEqual(twoInputs.body.error.details.issues, [{ field: 'inputBase64', message: 'send one of input, inputBase64, not several' }]);
    const declaredTwice = await api.http.post(`/v1/plugins/${plugin2}/versions`, {
      ...as(alice),
      body: { wasmBase64: Buffer.from(hello).toString('base64'), tests: [{ name: 'two', export: 'greet', input: 'a', inputJson: { b: 1 } }] },
    });
    assert.equal(declaredTwice.status, 400, declaredTwice.text);
    assert.equal(declaredTwice.body.error.details.issues[0].field, 'tests.0.inputJson');
    // A version is named by its plain decimal number only.
    for (const name of ['0x1', '1e0', '+1', '01', '%201']) {
      assert.equal((await api.http.get(`/v1/plugins/${plugin2}/versions/${name}`, as(alice))).status, 404, name);
    }
    assert.equal((await api.http.get(`/v1/plugins/${plugin2}/versions/1`, as(alice))).status, 200);

    const published = await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as(alice));
    assert.equal(published.status, 200, published.text);
    assert.equal(published.body.version.status, 'published');
    assert.ok(published.body.version.publishedAt);
  });

  it("hands a declared test's JSON input to the plugin as it was written, and keeps it so", async () => {
    const pluginId = (await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'exact-tests' } })).body.id;
    // Digits a double would change, an exponent past a double's range, index-like keys in their order.
    const exact = '{"id": 12345678901234567890, "big": 1e400, "2": "b", "1": "a"}';
    const declared = `[{"name": "exact", "export": "greet", "inputJson": ${exact}, "expect": {"output": ${JSON.stringify(`hello, ${exact}`)}}},
      {"name": "plain", "export": "greet", "inputJson": {"n":1}, "expect": {"output": "hello, {\\"n\\":1}"}},
      {"name": "twice", "export": "greet", "inputJson": {"k": 1, "k": 2}, "expect": {"output": "hello, {\\"k\\": 1, \\"k\\": 2}"}}]`;
    const upload = { data: `{"wasmBase64": "${Buffer.from(hello).toString('base64')}", "tests": ${declared}}`, contentType: 'application/json' };
    const created = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), rawBody: upload });
    assert.equal(created.status, 201, created.text);
    const run = await api.http.post(`/v1/plugins/${pluginId}/versions/1/test`, as(alice));
    assert.deepEqual(run.body.results.map((result: { name: string; passed: boolean; failures: string[] }) => [result.name, result.passed, result.failures]), [
      ['exact', true, []],
      ['plain', true, []],
      ['twice', true, []],
    ]);
    // The version shows its tests as JSON values, as any JSON reader takes them (the text kept for the plugin is not shown).
    const version = await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as(alice));
    assert.deepEqual(version.body.tests.map((test: Record<string, unknown>) => Object.keys(test).sort()), [
      ['expect', 'export', 'inputJson', 'name'],
      ['expect', 'export', 'inputJson', 'name'],
      ['expect', 'export', 'inputJson', 'name'],
    ]);
    assert.deepEqual(version.body.tests[0].inputJson, { id: 12345678901234567000, big: null, 2: 'b', 1: 'a' });
    // The same upload again is the same version with the same tests, not other tests refused.
    const again = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), rawBody: upload });
    assert.deepEqual([again.status, again.body.number], [200, 1], again.text);
  });

  it('stops waiting for a direct call once its caller has gone away', async () => {
    const pluginId = (await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'waited-on' } })).body.id;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { wasmBase64: Buffer.from(hello).toString('base64') } });
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as(alice))).status, 200);
    // No worker runs here: the call stays queued, and a wait would poll its status for all of its 10 s.
    const statuses = InvocationRepository.prototype.statuses;
    let polls = 0;
    InvocationRepository.prototype.statuses = function (this: InvocationRepository, ...args: Parameters<typeof statuses>) {
      polls++;
      return statuses.apply(this, args);
    };
    try {
      const caller = new AbortController();
      const waiting = fetch(`${api.baseUrl}/v1/plugins/${pluginId}/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ export: 'greet', input: 'Ida', wait: 10_000 }),
        signal: caller.signal,
      }).catch(() => 'gone');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(polls > 0, 'the wait polled');
      caller.abort();
      assert.equal(await waiting, 'gone');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pollsOnceGone = polls;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(polls, pollsOnceGone, 'no polling for a caller that is gone');
    } finally {
      InvocationRepository.prototype.statuses = statuses;
    }
  });

  it("says how a test's output differed however deep it nests, quoting a bounded part of it", async () => {
    const pluginId = (await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'deep-output' } })).body.id;
    // `echo` hands back its input: JSON nested 5,000 deep, deeper than JSON can be written out again by recursion.
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const tests = [{ name: 'deep', export: 'echo', input: deep, expect: { outputJson: [[1]] } }];
    const created = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), body: { wasmBase64: Buffer.from(WELL_BEHAVED).toString('base64'), tests } });
    assert.equal(created.status, 201, created.text);
    const run = await api.http.post(`/v1/plugins/${pluginId}/versions/1/test`, as(alice));
    assert.equal(run.status, 200, run.text);
    assert.deepEqual([run.body.results[0].passed, run.body.results[0].failures], [false, [`outputJson: expected [[1]], got ${deep.slice(0, 500)}… (9500 more characters)`]]);
    const published = await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as(alice));
    assert.deepEqual([published.status, published.body.error?.code], [409, 'tests_failed'], published.text);
  });

  it('publishes a version once: again, or by requests at once, it is answered as it stands, its tests not run again, audited once', async () => {
    const plugin = (await api.http.post('/v1/plugins', { ...as(bob), body: { name: 'published-once' } })).body.id;
    const tests = [{ name: 'greets', export: 'greet', input: 'Ada', expect: { output: 'hello, Ada' } }];
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(bob), body: { wasmBase64: Buffer.from(hello).toString('base64'), tests } })).status, 201);
    const atOnce = await Promise.all(Array.from({ length: 4 }, () => api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, as(bob))));
    assert.deepEqual(atOnce.map((response) => response.status), [200, 200, 200, 200]);
    const publishedAt = (await api.http.get(`/v1/plugins/${plugin}/versions/1`, as(bob))).body.publishedAt;
    const fuelBefore = (await api.http.get('/v1/quota', as(bob))).body.today.fuel;
    const again = await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, as(bob));
    assert.equal(again.status, 200, again.text);
    assert.deepEqual([again.body.version.status, again.body.version.publishedAt, again.body.results], ['published', publishedAt, []]);
    assert.equal((await api.http.get('/v1/quota', as(bob))).body.today.fuel, fuelBefore, 'its tests were not run (nor charged) again');
    const audit = (await api.http.get('/v1/audit?limit=100', as(bob))).body.items;
    const publishings = audit.filter((entry: { action: string; details: { pluginId: string } }) => entry.action === 'version.published' && entry.details.pluginId === plugin);
    assert.equal(publishings.length, 1, 'published once, audited once');
    // Publishing takes no fields: one sent anyway is named, not silently ignored; an empty object is nothing.
    for (const action of ['publish', 'unpublish']) {
      const forced = await api.http.post(`/v1/plugins/${plugin}/versions/1/${action}`, { ...as(bob), body: { force: true } });
      assert.equal(forced.status, 400, `${action}: ${forced.text}`);
      assert.deepEqual(forced.body.error.details.issues, [{ field: 'force', message: 'is not a known field' }]);
    }
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { ...as(bob), body: {} })).status, 200);
  });

  it('binds published versions to events, follows "latest", rolls back, and validates', async () => {
    await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, as(alice));
    const created = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 'latest', export: 'greet', config: { a: '1' } } });
    assert.equal(created.status, 400, 'the latest published version (2) exports no greet');
    assert.match(created.body.error.message, /version 2 exports no function "greet"/);
    const bound = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 1, export: 'greet', config: { a: '1' } } });
    assert.equal(bound.status, 201, bound.text);
    assert.deepEqual([bound.body.version, bound.body.resolvedVersion, bound.body.enabled], [1, 1, true]);
    // Moved to a version without its export: the version sent is named, not the export kept.
    const moved = await api.http.request('PATCH', `/v1/bindings/${bound.body.id}`, { ...as(alice), body: { version: 2 } });
    assert.equal(moved.status, 400, moved.text);
    assert.equal(moved.body.error.message, 'Invalid request body: version: version 2 exports no function "greet"');
    assert.deepEqual(moved.body.error.details.issues.map((issue: { field: string }) => issue.field), ['version']);
    const latest = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.paid', pluginId, export: 'run' } });
    assert.equal(latest.status, 201, latest.text);
    assert.deepEqual([latest.body.version, latest.body.resolvedVersion], ['latest', 2]);
    const rolledBack = await api.http.post(`/v1/plugins/${pluginId}/versions/2/unpublish`, as(alice));
    assert.equal(rolledBack.status, 200, rolledBack.text);
    assert.equal((await api.http.get(`/v1/bindings/${latest.body.id}`, as(alice))).body.resolvedVersion, 1, 'latest moves to the newest published');
    // Version 1 lacks `run`: the answer names the binding that stopped, rather than leave events to plan nothing for it unsaid.
    assert.deepEqual(rolledBack.body.stoppedBindings, [{ id: latest.body.id, event: 'order.paid', export: 'run', version: 'latest' }]);

    const badEvent = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'OrderCreated', pluginId, export: 'greet' } });
    assert.equal(badEvent.status, 400);
    assert.equal(badEvent.body.error.details.issues[0].field, 'event');
    const badExport = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 1, export: 'nope' } });
    assert.equal(badExport.status, 400);
    assert.equal(badExport.body.error.details.issues[0].field, 'export');
    const hugeVersion = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 3_000_000_000, export: 'greet' } });
    assert.equal(hugeVersion.status, 400, hugeVersion.text);
    assert.equal(hugeVersion.body.error.details.issues[0].field, 'version');
    const fractionalVersion = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 1.5, export: 'greet' } });
    assert.equal(fractionalVersion.status, 400, fractionalVersion.text);
    assert.match(fractionalVersion.body.error.message, /version: matches none of its forms: expected "latest"; or expected int/);
    const hugeInvoke = await api.http.post(`/v1/plugins/${pluginId}/invoke`, { ...as(alice), body: { export: 'greet', version: 3_000_000_000 } });
    assert.equal(hugeInvoke.status, 400, hugeInvoke.text);
    // A config or secret named __proto__ would be dropped by validation without a word: refused, named.
    for (const field of ['config', 'secrets']) {
      const data = `{"event":"order.created","pluginId":"${pluginId}","version":1,"export":"greet","${field}":{"__proto__":"x","a":"b"}}`;
      const proto = await api.http.post('/v1/bindings', { ...as(alice), rawBody: { data, contentType: 'application/json' } });
      assert.equal(proto.status, 400, proto.text);
      assert.equal(proto.body.error.details.issues[0].field, `${field}.__proto__`);
    }
    const draft = await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId, version: 3, export: 'count' } });
    assert.equal(draft.status, 409, 'a draft cannot be bound');

    const binding = `/v1/bindings/${bound.body.id}`;
    const patch = (body: Record<string, unknown>) => api.http.request('PATCH', binding, { ...as(alice), body });
    const disabled = await patch({ enabled: false });
    assert.equal(disabled.body.enabled, false);
    // Changes sent at once are each applied, one after the other: none is lost.
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all([patch({ config: { a: `round ${round}` } }), patch({ enabled: round % 2 === 0 })]);
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200], answers.map((answer) => answer.text).join('\n'));
      const now = (await api.http.get(binding, as(alice))).body;
      assert.deepEqual([now.config, now.enabled], [{ a: `round ${round}` }, round % 2 === 0], `round ${round}`);
    }
    // Its version unpublished, the binding stops (the answer says so); it can still be turned off and reconfigured; turning it on is checked again.
    const unpublished = await api.http.post(`/v1/plugins/${pluginId}/versions/1/unpublish`, as(alice));
    assert.ok(unpublished.body.stoppedBindings.some((stopped: { id: string; version: number }) => stopped.id === bound.body.id && stopped.version === 1), unpublished.text);
    assert.deepEqual((await api.http.post(`/v1/plugins/${pluginId}/versions/1/unpublish`, as(alice))).body.stoppedBindings, [], 'unpublished already: nothing more stops');
    const unpublishings = (await api.http.get('/v1/audit?limit=100', as(alice))).body.items.filter((entry: { action: string; details: { pluginId: string; number: number } }) => entry.action === 'version.unpublished' && entry.details.pluginId === pluginId && entry.details.number === 1);
    assert.equal(unpublishings.length, 1, 'unpublished once, audited once');
    const neverPublished = await api.http.post(`/v1/plugins/${pluginId}/versions/3/unpublish`, as(alice));
    assert.equal(neverPublished.status, 409, 'a draft has nothing to unpublish');
    assert.match(neverPublished.body.error.message, /^Version 3 is a draft/);
    assert.equal((await patch({ enabled: false })).status, 200);
    const reconfigured = await patch({ config: { a: 'while unpublished' } });
    assert.deepEqual([reconfigured.status, reconfigured.body.config, reconfigured.body.resolvedVersion], [200, { a: 'while unpublished' }, 1]);
    const reenabled = await patch({ enabled: true });
    assert.equal(reenabled.status, 409, reenabled.text);
    assert.match(reenabled.body.error.message, /Version 1 is unpublished/);
    // Publishing runs the version's tests, which count as events of this second: past the tier's rate, wait as told.
    let republished = await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as(alice));
    if (republished.status === 429) {
      await new Promise((resolve) => setTimeout(resolve, Number(republished.headers.get('retry-after')) * 1000));
      republished = await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as(alice));
    }
    assert.equal(republished.status, 200, republished.text);
    // A binding that changes under every attempt to write it (the trigger turns each write into nothing, as another
    // request's change would): given up with a 409 to send again, not a loop or a 500.
    await api.database.sql.exec(`
      CREATE FUNCTION vanish_binding() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      CREATE TRIGGER vanish_binding BEFORE UPDATE ON bindings FOR EACH ROW EXECUTE FUNCTION vanish_binding();`);
    try {
      const raced = await patch({ enabled: true });
      assert.equal(raced.status, 409, raced.text);
      assert.match(raced.body.error.message, /kept changing/);
    } finally {
      await api.database.sql.exec('DROP TRIGGER vanish_binding ON bindings; DROP FUNCTION vanish_binding();');
    }
    const listed = await api.http.get('/v1/bindings?event=order.created', as(alice));
    assert.deepEqual(listed.body.items.map((b: { id: string }) => b.id), [bound.body.id]);
    assert.equal((await api.http.delete(`/v1/bindings/${bound.body.id}`, as(alice))).status, 204);
    assert.equal((await api.http.get(`/v1/bindings/${bound.body.id}`, as(alice))).status, 404);
  });

  it('refuses to publish a version that would leave a "latest" binding without its export', async () => {
    const fay = await createTenantSession(api, 'Fay');
    const plugin = (await api.http.post('/v1/plugins', { ...as(fay), body: { name: 'reshaped' } })).body.id as string;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(fay), ...wasmBody(hello) });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, as(fay));
    const binding = (await api.http.post('/v1/bindings', { ...as(fay), body: { event: 'shape.changed', pluginId: plugin, export: 'greet' } })).body;
    const renamed = wat('(module (func (export "welcome") (result i32) (i32.const 0)))');
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(fay), ...wasmBody(renamed) })).status, 201);
    const refused = await api.http.post(`/v1/plugins/${plugin}/versions/2/publish`, as(fay));
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.error.message, /^Not published: version 2 does not export what 1 binding\(s\) following "latest" call \(shape\.changed → greet\)/);
    assert.deepEqual(refused.body.error.details.bindings, [{ id: binding.id, event: 'shape.changed', export: 'greet' }]);
    assert.equal((await api.http.get(`/v1/plugins/${plugin}/versions/2`, as(fay))).body.status, 'draft');
    assert.equal((await api.http.post('/v1/events', { ...as(fay), body: { type: 'shape.changed' } })).body.invocations[0].version, 1, 'still runs version 1');
    // Pinned to version 1, the binding is no longer stranded by it.
    assert.equal((await api.http.request('PATCH', `/v1/bindings/${binding.id}`, { ...as(fay), body: { version: 1 } })).status, 200);
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions/2/publish`, as(fay))).status, 200);
    assert.equal((await api.http.post('/v1/events', { ...as(fay), body: { type: 'shape.changed' } })).body.invocations[0].version, 1);
  });

  it('keeps a tenant to 500 bindings, even when it creates them at once', async () => {
    const dave = await createTenantSession(api, 'Dave');
    const { pluginId: davesPlugin } = await publishAndBind(api, dave, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const made = (n: number) => ({ tenantId: dave.tenantId, event: `bulk.e${n}`, pluginId: davesPlugin, version: 1, exportName: 'greet' });
    await api.database.prisma.binding.createMany({ data: Array.from({ length: 498 }, (_, n) => made(n)) });
    const last = await Promise.all(
      Array.from({ length: 5 }, () => api.http.post('/v1/bindings', { ...as(dave), body: { event: 'order.paid', pluginId: davesPlugin, version: 1, export: 'greet' } })),
    );
    assert.deepEqual(last.map((response) => response.status).sort(), [201, 409, 409, 409, 409]);
    const refused = last.find((response) => response.status === 409)!;
    assert.equal(refused.body.error.code, 'limit_reached');
    assert.deepEqual(refused.body.error.details, { limit: 'maxBindings', max: 500 });
    assert.equal(await api.database.prisma.binding.count({ where: { tenantId: dave.tenantId } }), 500);
  });

  it('takes every example plugin as source, compiled by the API', async () => {
    const names = ['discount-rule', 'lead-scorer', 'content-moderation', 'webhook-formatter', 'kv-rate-counter'];
    const uploads = await Promise.all(
      names.map(async (name) => {
        const plugin = (await api.http.post('/v1/plugins', { ...as(bob), body: { name } })).body.id;
        const source = await readFile(new URL(`../../../examples/plugins/${name}/index.ts`, import.meta.url), 'utf8');
        return api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(bob), body: { language: 'assemblyscript', source: { files: { 'index.ts': source } } } });
      }),
    );
    for (const [i, upload] of uploads.entries()) {
      assert.equal(upload.status, 201, `${names[i]}: ${upload.text.slice(0, 300)}`);
      assert.equal(upload.body.sourceLanguage, 'assemblyscript');
    }
    assert.deepEqual(uploads.map((upload) => upload.body.exports[0]), ['apply', 'score', 'moderate', 'post', 'hit']);
    assert.deepEqual(uploads[3]!.body.permissions, ['config', 'http', 'logs']);
    assert.equal(uploads[3]!.body.approvalStatus, 'pending', 'the webhook formatter wants HTTP, which the free tier does not grant');
  });

  it('refuses to delete a plugin with enabled bindings unless forced, and keeps its history', async () => {
    const blocked = await api.http.delete(`/v1/plugins/${pluginId}`, as(alice));
    assert.equal(blocked.status, 409);
    assert.equal(blocked.body.error.details.enabledBindings, 1);
    const forced = await api.http.delete(`/v1/plugins/${pluginId}?force=true`, as(alice));
    assert.equal(forced.status, 200);
    assert.ok(forced.body.deletedAt);
    assert.deepEqual((await api.http.get('/v1/bindings', as(alice))).body.items, [], 'its bindings went with it');
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as(alice))).status, 200, 'versions stay readable');
    assert.ok(!(await api.http.get('/v1/plugins', as(alice))).body.items.some((p: { id: string }) => p.id === pluginId));
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as(alice), ...wasmBody(hello) })).status, 409, 'no new versions');
    for (const action of ['publish', 'unpublish']) {
      const refused = await api.http.post(`/v1/plugins/${pluginId}/versions/1/${action}`, as(alice));
      assert.deepEqual([refused.status, refused.body.error?.message], [409, 'The plugin is deleted.'], action);
    }

    // Bindings created while the plugin is being deleted either land before (and go with it) or are refused.
    const erin = await createTenantSession(api, 'Erin');
    const { pluginId: doomed } = await publishAndBind(api, erin, { name: 'doomed', template: 'hello', event: 'order.created', exportName: 'greet' });
    const [deleted, ...created] = await Promise.all([
      api.http.delete(`/v1/plugins/${doomed}?force=true`, as(erin)),
      ...Array.from({ length: 6 }, (_, n) => api.http.post('/v1/bindings', { ...as(erin), body: { event: `order.${'abcdef'[n]}`, pluginId: doomed, version: 1, export: 'greet' } })),
    ]);
    assert.equal(deleted!.status, 200, deleted!.text);
    for (const response of created) assert.ok([201, 409].includes(response.status), response.text);
    assert.deepEqual((await api.http.get(`/v1/bindings?pluginId=${doomed}`, as(erin))).body.items, [], 'no binding outlives its plugin');

    // Deleted by several requests at once: one deletion, one time, one audit entry.
    const twice = (await api.http.post('/v1/plugins', { ...as(erin), body: { name: 'deleted-twice' } })).body.id as string;
    const deletions = await Promise.all(Array.from({ length: 6 }, () => api.http.delete(`/v1/plugins/${twice}`, as(erin))));
    assert.deepEqual(deletions.map((response) => response.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(new Set(deletions.map((response) => response.body.deletedAt)).size, 1, 'every answer tells the one deletion');
    const audited = (await api.http.get('/v1/audit?limit=100', as(erin))).body.items.filter((entry: { action: string; target: string }) => entry.action === 'plugin.deleted' && entry.target === twice);
    assert.equal(audited.length, 1);
  });

  it('answers 404 to another tenant on every plugin, version and binding route', async () => {
    const plugin = (await api.http.post('/v1/plugins', { ...as(alice), body: { name: 'private' } })).body.id;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { ...as(alice), ...wasmBody(hello) });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, as(alice));
    const binding = (await api.http.post('/v1/bindings', { ...as(alice), body: { event: 'order.created', pluginId: plugin, export: 'greet' } })).body.id;
    const routes: Array<[string, string, object?]> = [
      ['GET', `/v1/plugins/${plugin}`],
      ['DELETE', `/v1/plugins/${plugin}?force=true`],
      ['GET', `/v1/plugins/${plugin}/versions`],
      ['POST', `/v1/plugins/${plugin}/versions`, wasmBody(hello)],
      ['GET', `/v1/plugins/${plugin}/versions/1`],
      ['GET', `/v1/plugins/${plugin}/versions/1/wasm`],
      ['POST', `/v1/plugins/${plugin}/versions/1/test`],
      ['POST', `/v1/plugins/${plugin}/versions/1/publish`],
      ['POST', `/v1/plugins/${plugin}/versions/1/unpublish`],
      ['GET', `/v1/bindings/${binding}`],
      ['PATCH', `/v1/bindings/${binding}`, { body: { enabled: false } }],
      ['DELETE', `/v1/bindings/${binding}`],
      ['POST', '/v1/bindings', { body: { event: 'order.created', pluginId: plugin, export: 'greet' } }],
    ];
    for (const [method, path, options] of routes) {
      const response = await api.http.request(method, path, { ...as(bob), ...options });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.body.error.code, 'not_found');
      const anonymous = await api.http.request(method, path, options ?? {});
      assert.equal(anonymous.status, 401, `${method} ${path} without a key`);
    }
    assert.deepEqual((await api.http.get('/v1/bindings', as(bob))).body.items, []);
    assert.equal((await api.http.get(`/v1/bindings/${binding}`, as(alice))).body.enabled, true, 'nothing changed');
    assert.equal((await api.http.get(`/v1/plugins/${plugin}`, as(alice))).body.deletedAt, null);
  });
});
