import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ApiHarness } from '../support/api-harness.js';
import type { WatchedPage } from '../support/browser.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';
import { startWebStack, type WebStack } from '../support/web-stack.js';

const ANSWER_MODULE = wat('(module (func (export "answer") (result i32) (i32.const 0)))');
const HTTP_PLUGIN = wat('(module (import "extism:host/env" "http_request" (func (param i64 i64) (result i64))) (func (export "run") (result i32) (i32.const 0)))');

/**
 * What a click changes, in the web editor and the admin console: it changes
 * it once however fast it is repeated, on the plugin shown (never on the one
 * shown before), and edits not compiled are dropped only when the developer
 * says so.
 */
describe('the web editor and admin console act once, on what is shown', () => {
  let web: WebStack;
  let api: ApiHarness;

  before(async () => {
    web = await startWebStack();
    api = web.api;
  });
  after(() => web?.close());

  const signIn = (token: string) => web.signIn(token);

  it('acts on the plugin picked even before its versions have loaded, never on the one shown before', async () => {
    const ivy = await createTenantSession(api, 'Ivy');
    const { pluginId: firstId } = await publishAndBind(api, ivy, { name: 'first', template: 'hello', event: 'order.created', exportName: 'greet' });
    const event = await api.http.post('/v1/events', { token: ivy.key, body: { type: 'order.created', payload: 'Ada' } });
    assert.equal((await waitUntilFinished(api, ivy.key, event.body.invocations[0].id)).status, 'ok');
    const secondId = (await api.http.post('/v1/plugins', { token: ivy.key, body: { name: 'second' } })).body.id as string;
    const upload = await api.http.post(`/v1/plugins/${secondId}/versions`, { token: ivy.key, rawBody: { data: ANSWER_MODULE, contentType: 'application/wasm' } });
    assert.equal(upload.status, 201, upload.text);
    assert.equal((await api.http.post(`/v1/plugins/${secondId}/versions/1/publish`, { token: ivy.key })).status, 200);

    const page = await signIn(ivy.key);
    await page.getByTestId('plugin-first').click();
    await page.getByTestId('binding-order.created').waitFor();
    await page.getByTestId('runs').locator('tr').first().waitFor();
    // The second plugin's versions are slow to come (a slow network).
    const release = await holdRequests(page, 'GET', `/v1/plugins/${secondId}/versions`);
    await page.getByTestId('plugin-second').click();
    await page.getByTestId('plugin-title').getByText('second').waitFor();
    // Nothing of the first plugin is left to act on, and nothing is bound before the second's exports are known.
    assert.equal(await page.getByTestId('binding-order.created').count(), 0, "the first plugin's bindings are gone");
    assert.equal(await page.getByTestId('runs').locator('tr').count(), 0, "the first plugin's runs are gone");
    await page.getByTestId('binding-event').fill('order.paid');
    assert.equal(await page.getByTestId('create-binding').isDisabled(), true);

    release();
    await page.getByTestId('binding-export').locator('option', { hasText: 'answer' }).waitFor({ state: 'attached' });
    await page.getByTestId('create-binding').click();
    await page.getByTestId('binding-order.paid').waitFor();
    const boundEvents = async (pluginId: string) => ((await api.http.get(`/v1/bindings?pluginId=${pluginId}`, { token: ivy.key })).body.items as Array<{ event: string }>).map((binding) => binding.event);
    assert.deepEqual(await boundEvents(firstId), ['order.created']);
    assert.deepEqual(await boundEvents(secondId), ['order.paid']);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('makes one plugin, one publication, one binding and one removal of a double click', async () => {
    const jo = await createTenantSession(api, 'Jo');
    const page = await signIn(jo.key);
    const sent = apiRequests(page);
    await page.getByTestId('new-plugin-name').fill('twice');
    await page.getByTestId('create-plugin').dblclick();
    await page.getByText('No versions yet').waitFor();
    await page.getByTestId('compile').click();
    await page.getByText('Compiled into version 1').waitFor();
    await page.getByTestId('publish').dblclick();
    await page.getByText('Version 1 is published').waitFor();
    await page.getByTestId('binding-event').fill('order.created');
    await page.getByTestId('create-binding').dblclick();
    const row = page.getByTestId('binding-order.created');
    await row.waitFor();
    await row.getByRole('button', { name: 'remove the binding of order.created' }).dblclick();
    await row.waitFor({ state: 'detached' });

    assert.deepEqual(
      [/^POST \/v1\/plugins$/, /^POST \/v1\/plugins\/[^/]+\/versions\/1\/publish$/, /^POST \/v1\/bindings$/, /^DELETE \/v1\/bindings\/[^/]+$/].map((request) => times(sent, request)),
      [1, 1, 1, 1],
      sent.join('\n'),
    );
    assert.deepEqual((await api.http.get('/v1/bindings', { token: jo.key })).body.items, []);
    assert.equal(await page.getByTestId('binding-problem').textContent(), '');
    assert.equal(await page.getByTestId('notice').textContent(), 'Version 1 is published: bindings can run it.');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('makes one tenant, one revocation, one save and one decision of a double click in the admin console', async () => {
    // A version asking for HTTP waits for an admin's decision.
    const other = await createTenantSession(api, 'Other Co');
    const fetcherId = (await api.http.post('/v1/plugins', { token: other.key, body: { name: 'fetcher' } })).body.id as string;
    await api.http.post(`/v1/plugins/${fetcherId}/versions`, { token: other.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } });
    const page = await signIn(api.adminToken);
    const sent = apiRequests(page);
    await page.getByTestId('new-tenant-name').fill('Twice Ltd');
    await page.getByTestId('create-tenant').dblclick();
    await page.getByTestId('tenant-title').getByText('Twice Ltd').waitFor();
    const tenants = (await api.http.get('/v1/admin/tenants?limit=200', { token: api.adminToken })).body.items as Array<{ name: string }>;
    assert.equal(tenants.filter((tenant) => tenant.name === 'Twice Ltd').length, 1, 'one tenant');

    await page.getByTestId('new-key-name').fill('ci');
    await page.getByTestId('create-key').click();
    const key = (await page.getByTestId('new-key-value').textContent()) ?? '';
    await page.getByTestId('key-row').getByTestId('revoke-key').dblclick();
    await page.getByTestId('key-row').getByText(/^revoked/).waitFor();
    assert.equal((await api.http.get('/v1/me', { token: key })).status, 401);

    await page.getByTestId('quota-overrides').waitFor();
    await page.getByTestId('save-quota').dblclick();
    await page.getByTestId('tenant-notice').getByText('Saved: Twice Ltd is on the free tier.').waitFor();

    // Decided once, and said so (a second request would be told "decided meanwhile").
    await page.getByTestId('approval').filter({ hasText: 'fetcher v1' }).getByTestId('approval-approve').dblclick();
    await page.getByTestId('approvals').getByText('No pending requests.').waitFor();

    assert.deepEqual(
      [/^POST \/v1\/admin\/tenants$/, /^DELETE \/v1\/admin\/tenants\/[^/]+\/keys\/[^/]+$/, /^PUT \/v1\/admin\/tenants\/[^/]+\/quota$/, /^POST \/v1\/admin\/approvals\/[^/]+$/].map((request) => times(sent, request)),
      [1, 1, 1, 1],
      sent.join('\n'),
    );
    assert.equal(await page.getByTestId('approvals-notice').textContent(), 'fetcher v1 of Other Co: approved.');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('asks before signing out over changes not compiled, and keeps them when the key is refused', async () => {
    const kai = await createTenantSession(api, 'Kai');
    const spare = await api.http.post(`/v1/admin/tenants/${kai.tenantId}/keys`, { token: api.adminToken, body: { name: 'spare' } });
    const lee = await createTenantSession(api, 'Lee');
    const page = await signIn(kai.key);
    await page.getByTestId('new-plugin-name').fill('draft');
    await page.getByTestId('create-plugin').click();
    await page.getByText('No versions yet').waitFor();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('\nexport const unsaved: i32 = 42;\n');

    // Asked, and told no: still signed in, the changes still there.
    page.answer = 'dismiss';
    await page.getByText('Sign out').click();
    assert.match(page.asked.at(-1) ?? '', /changes not compiled/);
    await page.getByTestId('tenant-name').getByText('Kai').waitFor();
    await page.locator('.monaco-editor .view-lines').getByText('unsaved: i32 = 42').waitFor();

    // The key revoked meanwhile: signed out at the next request, without a question, and the changes are kept.
    page.answer = 'accept';
    const asked = page.asked.length;
    assert.equal((await api.http.delete(`/v1/admin/tenants/${kai.tenantId}/keys/${kai.keyId}`, { token: api.adminToken })).status, 200);
    await page.getByTestId('refresh-runs').click();
    await page.getByTestId('sign-in-problem').getByText('Your changes not compiled are kept in this tab').waitFor();
    assert.equal(page.asked.length, asked);

    // Another tenant signing in, in this tab, is not shown them.
    await signInAgain(page, lee.key);
    await page.getByTestId('tenant-name').getByText('Lee').waitFor();
    await page.waitForLoadState('networkidle');
    assert.doesNotMatch((await page.locator('.monaco-editor .view-lines').textContent()) ?? '', /unsaved/);
    await page.getByText('Sign out').click();

    // Another key of the same tenant: they are back over their plugin, not compiled yet, and compile into a version.
    await signInAgain(page, spare.body.key);
    await page.getByTestId('notice').getByText('not compiled when you were signed out are back').waitFor();
    assert.equal(await page.getByTestId('plugin-title').textContent(), 'draft');
    await page.locator('.monaco-editor .view-lines').getByText('unsaved: i32 = 42').waitFor();
    await page.getByTestId('compile').click();
    await page.getByText('Compiled into version 1').waitFor();
    const pluginId = ((await api.http.get('/v1/plugins', { token: spare.body.key })).body.items as Array<{ id: string }>)[0]!.id;
    const version = await api.http.get(`/v1/plugins/${pluginId}/versions/1`, { token: spare.body.key });
    assert.match(version.body.source.files['index.ts'], /export const unsaved: i32 = 42;/);
    assert.equal(page.asked.length, asked, 'nothing was asked');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('keeps binding settings and declared tests typed but not saved, dropping tests only when the developer says so', async () => {
    const noa = await createTenantSession(api, 'Noa');
    const { pluginId } = await publishAndBind(api, noa, { name: 'kept', template: 'hello', event: 'a.one', exportName: 'greet' });
    assert.equal((await api.http.post('/v1/bindings', { token: noa.key, body: { event: 'b.two', pluginId, export: 'greet' } })).status, 201);
    assert.equal((await api.http.post('/v1/plugins', { token: noa.key, body: { name: 'other' } })).status, 201);
    const fetchId = (await api.http.post('/v1/plugins', { token: noa.key, body: { name: 'fetch' } })).body.id as string;
    const asking = await api.http.post(`/v1/plugins/${fetchId}/versions`, { token: noa.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } });
    assert.equal(asking.body.approvalStatus, 'pending', asking.text);
    const page = await signIn(noa.key);
    await page.getByTestId('plugin-kept').click();

    // Settings typed for one binding stay, open, while another binding is switched off (the list is drawn again).
    const one = page.getByTestId('binding-a.one');
    await one.getByRole('button', { name: 'settings of the binding of a.one' }).click();
    await one.getByTestId('settings-config').fill('{"typed": "not saved yet"}');
    await page.getByTestId('binding-b.two').getByTestId('binding-enabled').uncheck();
    await page.getByTestId('binding-b.two').getByText('disabled').waitFor();
    assert.equal(await one.getByTestId('settings-config').isVisible(), true);
    assert.equal(await one.getByTestId('settings-config').inputValue(), '{"typed": "not saved yet"}');
    // Saved, the form shows what was saved, closed.
    await one.getByTestId('settings-save').click();
    await one.getByText('config: typed').waitFor();
    assert.equal(await one.getByTestId('settings-config').isVisible(), false);
    const [saved] = (await api.http.get('/v1/bindings?event=a.one', { token: noa.key })).body.items;
    assert.deepEqual(saved.config, { typed: 'not saved yet' });

    // Declared tests typed are changes not compiled: opening another plugin asks; told no, they stay.
    await page.getByText('Declared tests').click();
    const typed = JSON.stringify([{ name: 'greets', export: 'greet', input: 'Ada', expect: { output: 'hello, Ada' } }]);
    await page.getByTestId('declared-tests').fill(typed);
    page.answer = 'dismiss';
    await page.getByTestId('plugin-other').click();
    assert.match(page.asked.at(-1) ?? '', /declared tests have changes not compiled/);
    assert.equal(await page.getByTestId('plugin-title').textContent(), 'kept');
    assert.equal(await page.getByTestId('declared-tests').inputValue(), typed);
    page.answer = 'accept';
    await page.getByTestId('plugin-other').click();
    await page.getByTestId('plugin-title').getByText('other').waitFor();

    // A version published while its permissions await an admin is said to run nothing yet.
    await page.getByTestId('plugin-fetch').click();
    await page.getByTestId('plugin-title').getByText('fetch').waitFor();
    await page.getByTestId('publish').click();
    await page.getByTestId('notice').getByText('Version 1 is published, and runs nothing until an admin approves the permissions it asks for (http).').waitFor();
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});

/** The API requests a page sends, as "METHOD /path", in order. */
function apiRequests(page: Page): string[] {
  const sent: string[] = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/v1/')) sent.push(`${request.method()} ${pathname}`);
  });
  return sent;
}

/** How many of the requests `sent` match `request`. */
function times(sent: string[], request: RegExp): number {
  return sent.filter((line) => request.test(line)).length;
}

/** Holds the page's `method` requests to `path` until the returned function is called. */
async function holdRequests(page: Page, method: string, path: string): Promise<() => void> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      if (route.request().method() === method) await held;
      await route.continue();
    },
  );
  return release;
}

/** Signs in again in the same tab, from the sign-in form it shows. */
async function signInAgain(page: WatchedPage, key: string): Promise<void> {
  await page.getByTestId('api-key').fill(key);
  await page.getByTestId('sign-in').click();
}
