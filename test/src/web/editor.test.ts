import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ApiHarness } from '../support/api-harness.js';
import { compileSource } from '../support/pdk.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';
import { startWebStack, type WebStack } from '../support/web-stack.js';

/**
 * The web editor in a real browser against a real API and worker: a tenant's
 * developer signs in, writes a plugin, compiles it, sees compiler errors on
 * their lines, runs it, publishes it, and reads the runs a host app caused.
 */
describe('the web editor', () => {
  let web: WebStack;
  let api: ApiHarness;
  let alice: TenantSession;
  let bob: TenantSession;
  let carol: TenantSession;

  before(async () => {
    web = await startWebStack();
    api = web.api;
    alice = await createTenantSession(api, 'Alice Corp');
    bob = await createTenantSession(api, 'Bob Inc');
    carol = await createTenantSession(api, 'Carol Ltd');
  });
  after(() => web?.close());

  // Unlike web.signIn, confirmations are left to Playwright, which dismisses them.
  async function signIn(key: string): Promise<Page> {
    const page = await web.browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${api.baseUrl}/`);
    await page.getByTestId('api-key').fill(key);
    await page.getByTestId('sign-in').click();
    (page as Page & { problems?: string[] }).problems = problems;
    return page;
  }

  it('is served at /editor/ under a content security policy, and / leads there', async () => {
    const root = await fetch(`${api.baseUrl}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/editor/');
    const page = await fetch(`${api.baseUrl}/editor/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const policy = page.headers.get('content-security-policy') ?? '';
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.match(policy, /connect-src 'self'/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    // Its files are read, never written: other methods are a 405 that says which are allowed.
    for (const [method, path] of [['POST', '/editor/'], ['DELETE', '/editor/index.html'], ['POST', '/'], ['PUT', '/editor']]) {
      const refused = await fetch(`${api.baseUrl}${path}`, { method, redirect: 'manual' });
      assert.equal(refused.status, 405, `${method} ${path}`);
      assert.equal(refused.headers.get('allow'), 'GET, HEAD');
      assert.equal((await refused.json()).error.code, 'method_not_allowed');
    }
    // Monaco's megabytes travel compressed, and are cached for good (their names change with their content).
    const script = /src="(\/editor\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${api.baseUrl}/editor/`)).text())?.[1];
    assert.ok(script, 'the page loads a script');
    const asset = await fetch(`${api.baseUrl}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('content-encoding'), 'gzip');
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    // A path under it that is not a file is the API's JSON 404, not the page.
    const missing = await fetch(`${api.baseUrl}/editor/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'not_found');
  });

  it('refuses a key that is not valid, saying so', async () => {
    const page = await signIn('ak_0000000000000000_' + '0'.repeat(64));
    await page.getByText('That key is not valid').waitFor();
    assert.equal(await page.getByTestId('tenant-name').count(), 0);
    await page.close();
  });

  it('writes, compiles, tests and publishes a plugin, and shows the runs an event caused', async () => {
    const page = await signIn(alice.key);
    assert.equal(await page.getByTestId('tenant-name').textContent(), 'Alice Corp');

    await page.getByTestId('new-plugin-name').fill('greeter');
    await page.getByTestId('new-plugin-template').selectOption('hello');
    await page.getByTestId('create-plugin').click();
    await page.getByText('No versions yet').waitFor();
    await page.getByTestId('plugin-greeter').waitFor();
    // The template is in the editor, highlighted by Monaco.
    await page.locator('.monaco-editor .view-lines').getByText('Host.outputString').waitFor();

    // A mistake is shown on its line, and nothing is made of it.
    await replaceSource(page, 'import { Host } from "@airlock/plugin-pdk";\nexport function greet(): i32 {\n  return undefinedThing;\n}\n');
    await page.getByTestId('compile').click();
    await page.getByText('does not compile').waitFor();
    const problem = page.getByTestId('problems').locator('li').first();
    assert.match((await problem.textContent()) ?? '', /index\.ts:3:\d+ .*undefinedThing/);
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();
    assert.equal((await api.http.get(`/v1/plugins/${await pluginId(api, alice, 'greeter')}/versions`, { token: alice.key })).body.items.length, 0);

    // Fixed, it compiles into version 1.
    await replaceSource(page, 'import { Host } from "@airlock/plugin-pdk";\nexport function greet(): i32 {\n  Host.outputString("hello, " + Host.inputString());\n  return 0;\n}\n');
    await page.getByTestId('compile').click();
    await page.getByText('Compiled into version 1; exports greet.').waitFor();
    assert.equal(await page.locator('.monaco-editor .squiggly-error').count(), 0);
    // Ctrl+S compiles too; the same source makes no new version.
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+S');
    await page.getByText('It compiles to the same module as version 1: no new version.').waitFor();
    assert.deepEqual(await page.getByTestId('version-select').locator('option').allTextContents(), ['v1 (draft)']);

    // A test call; what the plugin writes is shown as text, never as markup.
    await page.getByTestId('test-input').fill('<img src=x onerror="window.__injected=1">');
    await page.getByTestId('run-test').click();
    const result = page.getByTestId('test-result');
    await result.getByTestId('run-status').waitFor();
    assert.equal(await result.getByTestId('run-status').textContent(), 'ok');
    assert.equal(await result.getByTestId('run-output').textContent(), 'hello, <img src=x onerror="window.__injected=1">');
    assert.equal(await result.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected), undefined);

    await page.getByTestId('publish').click();
    await page.getByText('Version 1 is published').waitFor();
    assert.match((await page.getByTestId('version-info').textContent()) ?? '', /^published/);

    // Bound to an event in the editor, it runs when the host app reports one; the run, its logs and trace show up.
    await page.getByTestId('binding-event').fill('order.created');
    await page.getByTestId('binding-export').selectOption('greet');
    await page.getByTestId('create-binding').click();
    await page.getByTestId('binding-order.created').getByText('runs v1').waitFor();
    const event = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'Ada' } });
    assert.equal(event.status, 202, event.text);
    assert.equal(event.body.invocations.length, 1, 'the binding made in the editor fans the event out');
    const finished = await waitUntilFinished(api, alice.key, event.body.invocations[0].id);
    assert.equal(finished.status, 'ok');
    await page.getByTestId('refresh-runs').click();
    const row = page.getByTestId('runs').locator('tr').first();
    await row.getByText('ok').waitFor();
    await row.click();
    assert.equal(await page.getByTestId('run-detail').getByTestId('run-output').textContent(), 'hello, "Ada"');
    // Spans are saved about a second after they end.
    await eventually(async () => {
      await page.getByTestId('show-trace').click();
      await page.getByTestId('trace').getByText('sandbox.run', { exact: false }).first().waitFor({ timeout: 1000 });
    });

    // Switched off in the editor, the binding no longer runs.
    // The change holds for events once its answer is in (the API drops its cached plans before answering).
    const switchedOff = page.waitForResponse((response) => response.request().method() === 'PATCH' && response.url().includes('/v1/bindings/'));
    await page.getByTestId('binding-order.created').getByTestId('binding-enabled').uncheck();
    assert.equal((await switchedOff).status(), 200);
    assert.equal((await api.http.get('/v1/bindings', { token: alice.key })).body.items[0].enabled, false);
    const quiet = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'nobody' } });
    assert.deepEqual(quiet.body.invocations, []);

    // A module built elsewhere is uploaded as the next version; it has no source to show.
    await page.getByTestId('upload-wasm').setInputFiles({ name: 'answer.wasm', mimeType: 'application/wasm', buffer: Buffer.from(wat('(module (func (export "answer") (result i32) (i32.const 0)))')) });
    await page.getByText('answer.wasm is version 2; exports answer.').waitFor();
    assert.deepEqual(await page.getByTestId('test-export').locator('option').allTextContents(), ['answer']);
    // Not a module: the API's reason is shown.
    await page.getByTestId('upload-wasm').setInputFiles({ name: 'notes.wasm', mimeType: 'application/wasm', buffer: Buffer.from('not wasm at all') });
    await page.getByTestId('notice').getByText('(module_rejected)', { exact: false }).waitFor();

    // Opened again (a new tab), the plugin's newest version and its source come back.
    const again = await signIn(alice.key);
    await again.getByTestId('plugin-greeter').click();
    await again.getByText('Version 2 was uploaded as a module').waitFor();
    assert.equal(await again.getByTestId('version-select').inputValue(), '2');
    await again.getByTestId('version-select').selectOption('1');
    await again.locator('.monaco-editor .view-lines').getByText('Host.inputString').waitFor();
    assert.deepEqual((page as Page & { problems?: string[] }).problems, []);
    await again.close();
    await page.close();
  });

  it("knows the kit: each template opens without a false error, and a real one is underlined", async () => {
    const page = await signIn(carol.key);
    // Each probe leaves an edit not compiled: the editor asks before the next plugin replaces it, and is told yes.
    const asked: string[] = [];
    page.on('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    // Read once the workbench is up (signing in answers before it is drawn).
    await page.getByTestId('new-plugin-template').locator('option').first().waitFor({ state: 'attached' });
    const templates = await page.getByTestId('new-plugin-template').locator('option').allTextContents();
    assert.ok(templates.length >= 5, templates.join());
    for (const template of templates) {
      await page.getByTestId('new-plugin-name').fill(`t-${template}`);
      await page.getByTestId('new-plugin-template').selectOption(template);
      await page.getByTestId('create-plugin').click();
      await page.getByTestId('plugin-title').getByText(`t-${template}`).waitFor();
      // The title shows at once; the template is in the editor once the plugin's versions (none) were read.
      await page.getByText('No versions yet').waitFor();
      // A line that is wrong for certain: once it is underlined, the language service has read the whole file.
      await page.locator('.monaco-editor .view-lines').click();
      await page.keyboard.press('ControlOrMeta+End');
      await page.keyboard.insertText('\nconst probe: i32 = "not a number";\n');
      await page.locator('.monaco-editor .squiggly-error').first().waitFor();
      // Exactly one, and still one a moment later: the language service redraws its underlines as it checks again
      // (on a busy machine a count can fall between two drawings), and a false error would keep the count above one.
      await eventually(async () => {
        const squiggles = page.locator('.monaco-editor .squiggly-error');
        const first = await squiggles.count();
        await page.waitForTimeout(300);
        assert.deepEqual([first, await squiggles.count()], [1, 1], `${template}: ${await page.locator('.monaco-editor .view-lines').textContent()}`);
      });
    }
    assert.equal(asked.length, templates.length - 1);
    assert.match(asked[0]!, /changes not compiled/);
    await page.close();
  });

  it('signs out when its key is revoked meanwhile, saying why', async () => {
    const erin = await createTenantSession(api, 'Erin');
    const page = await signIn(erin.key);
    await page.getByTestId('tenant-name').waitFor();
    const revoked = await api.http.delete(`/v1/admin/tenants/${erin.tenantId}/keys/${erin.keyId}`, { token: api.adminToken });
    assert.equal(revoked.status, 200, revoked.text);
    await page.getByTestId('new-plugin-name').fill('after-revocation');
    await page.getByTestId('create-plugin').click();
    await page.getByText('Your key or token is no longer accepted').waitFor();
    assert.equal(await page.getByTestId('tenant-name').count(), 0);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the key is forgotten');
    await page.close();
  });

  it('keeps each answer with the plugin it was asked for, and each source with its version', async () => {
    const frank = await createTenantSession(api, 'Frank');
    const create = async (name: string) => (await api.http.post('/v1/plugins', { token: frank.key, body: { name } })).body.id as string;
    const slowId = await create('slow');
    const moduleOnlyId = await create('module-only');
    const layeredId = await create('layered');
    const upload = await api.http.post(`/v1/plugins/${moduleOnlyId}/versions`, { token: frank.key, rawBody: { data: wat('(module (func (export "answer") (result i32) (i32.const 0)))'), contentType: 'application/wasm' } });
    assert.equal(upload.status, 201, upload.text);
    // A version of two files whose entry is not index.ts, as the kit's CLI makes them.
    const files = {
      'main.ts': 'import { Host } from "@airlock/plugin-pdk";\nimport { shout } from "./util";\nexport function greet(): i32 {\n  Host.outputString(shout(Host.inputString()));\n  return 0;\n}\n',
      'util.ts': 'export function shout(text: string): string {\n  return text.toUpperCase();\n}\n',
    };
    const layered = await api.http.post(`/v1/plugins/${layeredId}/versions`, { token: frank.key, body: { language: 'assemblyscript', source: { files, entry: 'main.ts' } } });
    assert.equal(layered.status, 201, layered.text);

    const page = await signIn(frank.key);
    await page.getByTestId('plugin-slow').click();
    await page.getByText('No versions yet').waitFor();
    // A compile answered late, after another plugin was opened, lands on the plugin it was for.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/v1/plugins/${slowId}/versions`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await held;
      await route.continue();
    });
    await page.getByTestId('compile').click();
    await page.getByTestId('plugin-module-only').click();
    await page.getByTestId('plugin-title').getByText('module-only').waitFor();
    await page.getByText('Version 1 was uploaded as a module').waitFor();
    const answered = page.waitForResponse((response) => response.url().endsWith(`/v1/plugins/${slowId}/versions`) && response.request().method() === 'POST');
    release();
    assert.equal((await answered).status(), 201);
    // The page has had the answer; what it shows is still the plugin now open.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    assert.deepEqual(await page.getByTestId('version-select').locator('option').allTextContents(), ['v1 (draft)']);
    assert.deepEqual(await page.getByTestId('test-export').locator('option').allTextContents(), ['answer']);
    // The module-only plugin's editor holds a template saying so, not the slow plugin's source.
    await page.locator('.monaco-editor .view-lines').getByText('was uploaded as a compiled module').waitFor();

    // The two-file version opens at its entry, and compiles again with both files.
    await page.getByTestId('plugin-layered').click();
    await page.locator('.monaco-editor .view-lines').getByText('shout(Host.inputString())').waitFor();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('export const edited: i32 = 1;\n');
    await page.keyboard.press('ControlOrMeta+S');
    await page.getByText('Compiled into version 2; exports greet.').waitFor();
    const second = await api.http.get(`/v1/plugins/${layeredId}/versions/2`, { token: frank.key });
    assert.deepEqual([Object.keys(second.body.source.files).sort(), second.body.source.entry, second.body.source.files['util.ts']], [['main.ts', 'util.ts'], 'main.ts', files['util.ts']]);
    await page.getByTestId('test-input').fill('quiet');
    await page.getByTestId('run-test').click();
    await page.getByTestId('test-result').getByTestId('run-output').getByText('QUIET').waitFor();
    // The other file has a tab of its own: a mistake there is shown there, and clicking it in the list opens it.
    assert.deepEqual(await page.getByTestId('file-tabs').locator('button').allTextContents(), ['main.ts', 'util.ts']);
    await page.getByTestId('file-util.ts').click();
    // Typed at the end of line 2, before its ';' (no brackets or quotes: the editor would close them as it is typed).
    const atEndOfReturn = async () => {
      await page.keyboard.press('ControlOrMeta+Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
    };
    await atEndOfReturn();
    await page.keyboard.insertText(' + missing');
    await page.getByTestId('file-main.ts').click();
    await page.keyboard.press('ControlOrMeta+S');
    await page.getByTestId('problems').getByText('util.ts:2:').waitFor();
    await page.getByTestId('problems').getByText('util.ts:2:').click();
    await page.locator('.monaco-editor .view-lines').getByText('toUpperCase').waitFor();
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();
    await atEndOfReturn();
    for (let i = 0; i < ' + missing'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.insertText(' + text.length.toString()');
    await page.keyboard.press('ControlOrMeta+S');
    await page.getByText('Compiled into version 3; exports greet.').waitFor();
    const third = await api.http.get(`/v1/plugins/${layeredId}/versions/3`, { token: frank.key });
    assert.equal(third.body.source.files['util.ts'], 'export function shout(text: string): string {\n  return text.toUpperCase() + text.length.toString();\n}\n');
    await page.getByTestId('test-input').fill('loud');
    await page.getByTestId('run-test').click();
    await page.getByTestId('test-result').getByTestId('run-output').getByText('LOUD4').waitFor();
    // A new file: a name the compiler cannot take is refused; a good one opens in a tab of its own.
    page.once('dialog', (dialog) => void dialog.accept('../escape.ts'));
    await page.getByTestId('add-file').click();
    await page.getByText('is not a file name the compiler takes').waitFor();
    page.once('dialog', (dialog) => void dialog.accept('extra.ts'));
    await page.getByTestId('add-file').click();
    await page.getByTestId('file-extra.ts').waitFor();
    assert.deepEqual(await page.getByTestId('file-tabs').locator('button').allTextContents(), ['main.ts', 'extra.ts', 'util.ts']);

    // Signing out and in again in the same tab gives a working editor; the new file is not compiled, so it asks first.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByText('Sign out').click();
    await page.getByTestId('api-key').fill(frank.key);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('plugin-layered').click();
    await page.locator('.monaco-editor .view-lines').getByText('const edited').waitFor();
    assert.deepEqual((page as Page & { problems?: string[] }).problems, []);
    await page.close();
  });

  it('saves declared tests with a version, runs them, and shows why publishing refused it', async () => {
    const gina = await createTenantSession(api, 'Gina');
    const page = await signIn(gina.key);
    await page.getByTestId('new-plugin-name').fill('checked');
    await page.getByTestId('create-plugin').click();
    await page.getByText('No versions yet').waitFor();
    await page.getByText('Declared tests').click();
    await page.getByTestId('declared-tests').fill(JSON.stringify([{ name: 'says hi', export: 'greet', input: 'Ada', expect: { output: 'hi, Ada' } }]));
    await page.getByTestId('compile').click();
    await page.getByText('Compiled into version 1').waitFor();

    await page.getByTestId('publish').click();
    await page.getByText('Not published: 1 of 1 declared tests failed (says hi)').waitFor();
    const failed = page.getByTestId('declared-says hi');
    assert.match((await failed.textContent()) ?? '', /✗ says hi/);
    assert.equal(await failed.getByTestId('run-output').textContent(), 'hello, Ada');
    await page.getByTestId('run-declared-tests').click();
    await page.getByTestId('declared-says hi').getByTestId('run-output').waitFor();

    // Tests alone make no new version (a version is its module): the editor says they were not saved.
    await page.getByTestId('declared-tests').fill(JSON.stringify([{ name: 'says hello', export: 'greet', input: 'Ada', expect: { output: 'hello, Ada' } }]));
    await page.getByTestId('compile').click();
    await page.getByText('The declared tests were not saved').waitFor();
    // With a change to the source, they come with the new version, which publishes.
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('export const revision: i32 = 2;\n');
    await page.getByTestId('compile').click();
    await page.getByText('Compiled into version 2').waitFor();
    await page.getByTestId('publish').click();
    await page.getByText('Version 2 is published').waitFor();
    const stored = await api.http.get(`/v1/plugins/${await pluginId(api, gina, 'checked')}/versions/2`, { token: gina.key });
    assert.deepEqual(stored.body.tests.map((test: { name: string }) => test.name), ['says hello']);
    // Opening version 1 shows the tests it was made with.
    await page.getByTestId('version-select').selectOption('1');
    await eventually(async () => assert.match(await page.getByTestId('declared-tests').inputValue(), /says hi/));
    await page.close();
  });

  it("never makes one plugin's source a version of another, nor offers one plugin's binding secrets to another", async () => {
    const gus = await createTenantSession(api, 'Gus');
    const withSource = async (name: string) => {
      const id = (await api.http.post('/v1/plugins', { token: gus.key, body: { name } })).body.id as string;
      const source = { files: { 'index.ts': `// ${name}-marker\nimport { Host } from "@airlock/plugin-pdk";\nexport function greet(): i32 {\n  Host.outputString("${name}");\n  return 0;\n}\n` } };
      const made = await api.http.post(`/v1/plugins/${id}/versions`, { token: gus.key, body: { language: 'assemblyscript', source } });
      assert.equal(made.status, 201, made.text);
      return id;
    };
    await withSource('alpha');
    const betaId = await withSource('beta');
    const page = await signIn(gus.key);
    await page.getByTestId('plugin-alpha').click();
    await page.locator('.monaco-editor .view-lines').getByText('alpha-marker').waitFor();
    await page.getByTestId('binding-event').fill('order.created');
    await page.getByTestId('binding-secrets').fill('{"API_TOKEN": "alpha-secret"}');

    // Beta's source cannot be read for a moment: the editor still holds alpha's, and nothing compiles it as beta's.
    await page.route(`**/v1/plugins/${betaId}/versions/1`, (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'not_ready', message: 'Airlock is not ready: retry.' } }) }),
    );
    await page.getByTestId('plugin-beta').click();
    await page.getByText('Airlock is not ready: retry.').waitFor();
    assert.equal(await page.getByTestId('compile').isDisabled(), true, 'compile is off');
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+S');
    assert.deepEqual([await page.getByTestId('binding-event').inputValue(), await page.getByTestId('binding-secrets').inputValue()], ['', ''], "alpha's binding form is not beta's");
    await page.unroute(`**/v1/plugins/${betaId}/versions/1`);
    // Clicked again, beta is loaded again, and compiles as itself.
    await page.getByTestId('plugin-beta').click();
    await page.locator('.monaco-editor .view-lines').getByText('beta-marker').waitFor();
    await page.getByTestId('compile').click();
    await page.getByText('It compiles to the same module as version 1: no new version.').waitFor();
    const versions = (await api.http.get(`/v1/plugins/${betaId}/versions`, { token: gus.key })).body.items;
    assert.equal(versions.length, 1, 'no version of beta was made from alpha');
    assert.deepEqual((page as Page & { problems?: string[] }).problems, []);
    await page.close();
  });

  it('drops edits the developer chose to discard, even when the key is refused as the next plugin opens', async () => {
    const hal = await createTenantSession(api, 'Hal');
    for (const name of ['first', 'second']) await api.http.post('/v1/plugins', { token: hal.key, body: { name } });
    const page = await signIn(hal.key);
    await page.getByTestId('plugin-first').click();
    await page.getByText('No versions yet').waitFor();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('// work to throw away\n');
    const revoked = await api.http.delete(`/v1/admin/tenants/${hal.tenantId}/keys/${hal.keyId}`, { token: api.adminToken });
    assert.equal(revoked.status, 200, revoked.text);
    page.once('dialog', (dialog) => void dialog.accept()); // "Discard them?": yes
    await page.getByTestId('plugin-second').click();
    await page.getByText('Your key or token is no longer accepted').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('airlock.keptEdits')), null, 'nothing kept for the next sign-in');
    await page.close();
  });

  it('follows logs again after a stream is refused for a while (too many open), saying so meanwhile', async () => {
    const ivy = await createTenantSession(api, 'Ivy');
    const source = 'import { Host, Log } from "@airlock/plugin-pdk";\nexport function note(): i32 {\n  Log.warn("noted " + Host.inputString());\n  return 0;\n}\n';
    await publishAndBind(api, ivy, { name: 'noter', template: 'hello', event: 'order.created', exportName: 'note', wasm: await compileSource(source) });
    const event = await api.http.post('/v1/events', { token: ivy.key, body: { type: 'order.created', payload: 'once' } });
    assert.equal((await waitUntilFinished(api, ivy.key, event.body.invocations[0].id)).status, 'ok');
    const page = await signIn(ivy.key);
    await page.getByTestId('plugin-noter').click();
    await page.getByTestId('plugin-title').getByText('noter').waitFor();
    let refusals = 0;
    await page.route('**/v1/logs/stream?*', (route) => {
      if (refusals++ > 0) return route.continue();
      const body = { error: { code: 'quota_exceeded', message: 'This tenant has 50 streams open: close one, or retry in 2 s.', details: { limit: 'streams' } } };
      return route.fulfill({ status: 429, headers: { 'retry-after': '2' }, contentType: 'application/json', body: JSON.stringify(body) });
    });
    await page.getByTestId('logs-panel').locator('summary').click();
    await page.getByTestId('log-status').getByText('close one, or retry in 2 s.').waitFor();
    await page.getByTestId('log-status').getByText('Trying again in 2 s.').waitFor();
    await page.getByTestId('plugin-logs').getByText('noted "once"').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('log-status').textContent(), 'following');
    await page.close();
  });

  it("follows a plugin's log lines as its runs write them, from the level chosen up", async () => {
    const hana = await createTenantSession(api, 'Hana');
    const source = 'import { Host, Log } from "@airlock/plugin-pdk";\nexport function note(): i32 {\n  Log.info("detail of " + Host.inputString());\n  Log.warn("saw " + Host.inputString());\n  return 0;\n}\n';
    await publishAndBind(api, hana, { name: 'chatty', template: 'hello', event: 'order.created', exportName: 'note', wasm: await compileSource(source) });
    const send = async (payload: string) => {
      const event = await api.http.post('/v1/events', { token: hana.key, body: { type: 'order.created', payload } });
      assert.equal((await waitUntilFinished(api, hana.key, event.body.invocations[0].id)).status, 'ok');
    };
    await send('before');
    const page = await signIn(hana.key);
    await page.getByTestId('plugin-chatty').click();
    await page.getByTestId('plugin-title').getByText('chatty').waitFor();
    await page.getByTestId('logs-panel').locator('summary').click();
    // Lines of the last minutes are there at once, then new ones as they are written.
    await page.getByTestId('plugin-logs').getByText('saw "before"').waitFor();
    await send('after');
    await page.getByTestId('plugin-logs').getByText('saw "after"').waitFor({ timeout: 10_000 });
    assert.ok((await page.getByTestId('plugin-logs').textContent())!.includes('detail of "after"'), 'info lines shown from trace up');
    await page.getByTestId('log-level').selectOption('warn');
    await page.getByTestId('plugin-logs').getByText('saw "after"').waitFor();
    assert.equal(await page.getByTestId('plugin-logs').getByText('detail of').count(), 0, 'below the level chosen, nothing');
    await page.close();
  });

  it('sets the config and secrets a binding hands its plugin, and the config of a test call', async () => {
    const kim = await createTenantSession(api, 'Kim');
    // A plugin that answers with what its config says, secrets included (as a test only would).
    const source = 'import { Config, Host } from "@airlock/plugin-pdk";\nexport function show(): i32 {\n  Host.outputString(Config.getOr("greeting", "none") + "/" + Config.getOr("TOKEN", "no secret"));\n  return 0;\n}\n';
    const { pluginId: id } = await publishAndBind(api, kim, { name: 'configured', template: 'hello', event: 'order.created', exportName: 'show', wasm: await compileSource(source) });
    const bindings = async () => (await api.http.get(`/v1/bindings?pluginId=${id}`, { token: kim.key })).body.items as Array<{ id: string; event: string; config: Record<string, string>; secretNames: string[] }>;
    const runEvent = async (type: string) => {
      const event = await api.http.post('/v1/events', { token: kim.key, body: { type, payload: 'x' } });
      return (await waitUntilFinished(api, kim.key, event.body.invocations[0].id)).output;
    };
    const page = await signIn(kim.key);
    await page.getByTestId('plugin-configured').click();
    await page.getByTestId('binding-order.created').waitFor();

    // A test call with config of its own.
    await page.getByTestId('test-config').fill('{"greeting": "hi"}');
    await page.getByTestId('run-test').click();
    await page.getByTestId('test-result').getByTestId('run-output').getByText('hi/no secret').waitFor();
    // Config that is not a JSON object of text is refused before it is sent, saying why.
    await page.getByTestId('test-config').fill('{"greeting": 5}');
    await page.getByTestId('run-test').click();
    await page.getByTestId('test-result').getByText('"greeting" is not').waitFor();

    // A new binding with config and a secret; the secret's value never comes back, only its name.
    await page.getByTestId('binding-event').fill('invoice.due');
    await page.getByTestId('binding-export').selectOption('show');
    await page.getByTestId('binding-config').fill('{"greeting": "dear customer"}');
    await page.getByTestId('binding-secrets').fill('{"TOKEN": "s3cret"}');
    await page.getByTestId('create-binding').click();
    const row = page.getByTestId('binding-invoice.due');
    await row.getByText('secrets: TOKEN').waitFor();
    assert.ok(!((await page.content()).includes('s3cret')), 'the secret is not on the page');
    assert.equal(await runEvent('invoice.due'), 'dear customer/s3cret');

    // Its settings changed: new config, secrets kept; then every secret removed.
    const saved = () => page.waitForResponse((response) => response.request().method() === 'PATCH' && response.url().includes('/v1/bindings/'));
    await row.getByText('settings').click();
    await row.getByTestId('settings-config').fill('{"greeting": "hello again"}');
    const reconfigured = saved();
    await row.getByTestId('settings-save').click();
    assert.equal((await reconfigured).status(), 200);
    assert.deepEqual((await bindings()).find((binding) => binding.event === 'invoice.due')?.config, { greeting: 'hello again' });
    assert.equal(await runEvent('invoice.due'), 'hello again/s3cret');
    const again = page.getByTestId('binding-invoice.due');
    await again.getByText('settings').click();
    await again.getByTestId('settings-clear-secrets').check();
    const cleared = saved();
    await again.getByTestId('settings-save').click();
    assert.equal((await cleared).status(), 200);
    assert.deepEqual((await bindings()).find((binding) => binding.event === 'invoice.due')?.secretNames, []);
    assert.equal(await runEvent('invoice.due'), 'hello again/no secret');
    await page.close();
  });

  it('shows a tenant only its own plugins and runs', async () => {
    // Alice's greeter exists and has run; Bob has a plugin of the same name that never ran.
    const own = await api.http.post('/v1/plugins', { token: bob.key, body: { name: 'greeter' } });
    assert.equal(own.status, 201, own.text);
    assert.ok((await api.http.get(`/v1/invocations?pluginId=${await pluginId(api, alice, 'greeter')}`, { token: alice.key })).body.items.length > 0);
    const page = await signIn(bob.key);
    assert.equal(await page.getByTestId('tenant-name').textContent(), 'Bob Inc');
    await page.getByTestId('plugin-greeter').click();
    await page.getByText('No versions yet').waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await page.getByTestId('plugin-list').locator('li').allTextContents(), ['greeter']);
    assert.equal(await page.getByTestId('runs').locator('tr').count(), 0, "none of Alice's runs");
    assert.deepEqual(await page.getByTestId('version-select').locator('option').allTextContents(), []);
    await page.close();
  });
});

/** Retries `check` until it passes, for up to 10 s. */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Replaces the whole source as a developer would: select all, then type over it. */
async function replaceSource(page: Page, source: string): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(source);
}

async function pluginId(api: ApiHarness, session: TenantSession, name: string): Promise<string> {
  const list = await api.http.get('/v1/plugins', { token: session.key });
  const plugin = list.body.items.find((item: { name: string }) => item.name === name);
  assert.ok(plugin, `no plugin ${name}`);
  return plugin.id;
}
