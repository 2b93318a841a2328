import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ApiHarness } from '../support/api-harness.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';
import { startWebStack, type WebStack } from '../support/web-stack.js';

/** A question as it reads: without the invisible marks that keep a tenant's text from turning the sentence around. */
const read = (text: string | undefined) => (text ?? '').replace(/[\u2066-\u2069]/g, '');

const HTTP_PLUGIN = wat('(module (import "extism:host/env" "http_request" (func (param i64 i64) (result i64))) (func (export "run") (result i32) (i32.const 0)))');

/**
 * The admin console in a real browser against a real API and worker: the
 * operator signs in with the admin token, makes tenants and their keys, sets
 * quotas, reads usage, and decides permission requests.
 */
describe('the admin console', () => {
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

  const signIn = (token: string) => web.signIn(token);

  const openTenant = async (page: Page, name: string) => {
    await page.getByTestId('tenant-list').getByText(name, { exact: true }).click();
    await page.getByTestId('tenant-title').getByText(name, { exact: true }).waitFor();
  };

  it('opens for the admin token only: a tenant key gets the editor, anything else is refused', async () => {
    const admin = await signIn(api.adminToken);
    await admin.getByTestId('admin-badge').waitFor();
    for (const name of ['Alice Corp', 'Bob Inc', 'Carol Ltd']) await admin.getByTestId('tenant-list').getByText(name, { exact: true }).waitFor();
    // The token outlives a reload (this tab only), and is checked again.
    await admin.reload();
    await admin.getByTestId('admin-badge').waitFor();
    assert.deepEqual(admin.problems, []);

    const tenant = await signIn(alice.key);
    await tenant.getByTestId('tenant-name').getByText('Alice Corp').waitFor();
    assert.equal(await tenant.getByTestId('admin-badge').count(), 0);

    const stranger = await signIn(`${api.adminToken}x`);
    await stranger.getByTestId('sign-in-problem').getByText('That key is not valid').waitFor();
    await Promise.all([admin.close(), tenant.close(), stranger.close()]);
  });

  it('makes a tenant and a key shown once, and revokes the key', async () => {
    const page = await signIn(api.adminToken);
    // Names are shown as text, never as markup.
    const name = '<img src=x onerror="window.__pwned=1">Dora';
    await page.getByTestId('new-tenant-name').fill(name);
    await page.getByTestId('new-tenant-tier').selectOption('standard');
    await page.getByTestId('create-tenant').click();
    await page.getByTestId('tenant-title').getByText(name, { exact: true }).waitFor();
    assert.equal(await page.getByTestId('tenant-title').textContent(), name);
    assert.equal(await page.locator('img').count(), 0, 'no element was made of the name');
    assert.match((await page.getByTestId('tenant-list').textContent()) ?? '', /Dora standard/);
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);

    await page.getByTestId('new-key-name').fill('billing service');
    await page.getByTestId('create-key').click();
    const key = (await page.getByTestId('new-key-value').textContent()) ?? '';
    assert.match(key, /^ak_/);
    const me = await api.http.get('/v1/me', { token: key });
    assert.equal(me.status, 200, 'the key shown works');
    assert.equal(me.body.name, name);
    const row = page.getByTestId('key-row').filter({ hasText: 'billing service' });
    await row.waitFor();
    assert.ok(!((await row.textContent()) ?? '').includes(key), 'the list shows only its prefix');

    // Revoking asks first; declined, nothing happens.
    page.answer = 'dismiss';
    await row.getByTestId('revoke-key').click();
    assert.match(read(page.asked.at(-1)), /^Revoke the key "billing service" .* of <img.*Dora\? Whatever uses it is refused at once\.$/);
    assert.equal((await api.http.get('/v1/me', { token: key })).status, 200, 'declined: the key still works');
    assert.equal(await row.getByTestId('revoke-key').count(), 1);
    page.answer = 'accept';
    await row.getByTestId('revoke-key').click();
    await row.getByText(/^revoked/).waitFor();
    assert.equal((await api.http.get('/v1/me', { token: key })).status, 401, 'a revoked key is refused at once');
    // The audit log shows it without being asked to.
    await page.getByTestId('audit').getByText('key.revoked').first().waitFor();
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it("sets a tenant's tier and overrides, refusing what is not valid and keeping what was", async () => {
    const page = await signIn(api.adminToken);
    await openTenant(page, 'Bob Inc');
    const overrides = page.getByTestId('quota-overrides');
    await overrides.fill('{"eventsPerSecond": 0, "allowedHosts": ["api.example.com"]}');
    await page.getByTestId('quota-tier').selectOption('enterprise');
    await page.getByTestId('save-quota').click();
    await page.getByTestId('tenant-notice').getByText('Saved: Bob Inc is on the enterprise tier.').waitFor();
    assert.match((await page.getByTestId('effective-policy').textContent()) ?? '', /"eventsPerSecond": 0/);
    assert.match((await page.getByTestId('tenant-list').textContent()) ?? '', /Bob Inc enterprise/);
    // A limit of 0 admits nothing, ever: refused for good (422), not "try again later" (429).
    const refused = await api.http.post('/v1/events', { token: bob.key, body: { type: 'order.created', payload: {} } });
    assert.equal(refused.status, 422, 'the quota holds at once');
    assert.equal(refused.body.error.code, 'quota_too_small');

    // Not JSON: said so, and nothing is sent.
    await overrides.fill('{"eventsPerSecond": ');
    await page.getByTestId('save-quota').click();
    await page.getByTestId('tenant-notice').getByText(/not JSON.*Nothing was saved/).waitFor();
    // JSON the API refuses: its reason is shown.
    await overrides.fill('{"eventsPerSecond": -1}');
    await page.getByTestId('save-quota').click();
    await page.getByTestId('tenant-notice').getByText(/validation_failed/).waitFor();
    const quota = await api.http.get(`/v1/admin/tenants/${bob.tenantId}/quota`, { token: api.adminToken });
    assert.deepEqual(quota.body.overrides, { eventsPerSecond: 0, allowedHosts: ['api.example.com'] }, 'the quota saved before is kept');
    assert.equal(quota.body.tier, 'enterprise');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it("shows a tenant's usage by day", async () => {
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const event = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'Ada' } });
    assert.equal(event.status, 202, event.text);
    assert.equal((await waitUntilFinished(api, alice.key, event.body.invocations[0].id)).status, 'ok');

    const page = await signIn(api.adminToken);
    await openTenant(page, 'Alice Corp');
    const today = new Date().toISOString().slice(0, 10);
    const row = page.getByTestId('usage-row').filter({ hasText: today });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /ok 1/);
    // Another tenant's page shows its own usage: Bob ran nothing.
    await openTenant(page, 'Bob Inc');
    await page.getByTestId('usage-empty').getByText(/^No invocations from/).waitFor();
    // A range the API refuses: its reason, in place of the rows of the range before.
    await openTenant(page, 'Alice Corp');
    await row.waitFor();
    await page.getByTestId('usage-from').fill(today);
    await page.getByTestId('usage-to').fill(today);
    await page.getByTestId('show-usage').click();
    await page.getByTestId('usage-problem').getByText(/must be before to/).waitFor();
    assert.equal(await page.getByTestId('usage-row').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it("decides a version's permissions, and changes a decision only on purpose", async () => {
    const pluginId = (await api.http.post('/v1/plugins', { token: carol.key, body: { name: 'fetcher' } })).body.id as string;
    const version = await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: carol.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } });
    assert.equal(version.body.approvalStatus, 'pending', version.text);

    const page = await signIn(api.adminToken);
    const request = page.getByTestId('approval').filter({ hasText: 'fetcher v1' });
    await request.waitFor();
    assert.match((await request.textContent()) ?? '', /of Carol Ltd.*http beyond its tier/);
    await request.getByTestId('approval-note').fill('partner integration');
    await request.getByTestId('approval-approve').click();
    await page.getByTestId('approvals-notice').getByText('fetcher v1 of Carol Ltd: approved.').waitFor();
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, { token: carol.key })).body.approvalStatus, 'approved');
    await page.getByTestId('approvals').getByText('No pending requests.').waitFor();
    // A request made while the console is open shows when the admin refreshes the list.
    const laterId = (await api.http.post('/v1/plugins', { token: carol.key, body: { name: 'fetcher-later' } })).body.id as string;
    assert.equal((await api.http.post(`/v1/plugins/${laterId}/versions`, { token: carol.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } })).body.approvalStatus, 'pending');
    await page.getByTestId('refresh-approvals').click();
    const later = page.getByTestId('approval').filter({ hasText: 'fetcher-later v1' });
    await later.waitFor();
    // A note typed and not sent yet outlives another refresh.
    await later.getByTestId('approval-note').fill('checked the hosts');
    await page.getByTestId('refresh-approvals').click();
    await page.waitForLoadState('networkidle');
    assert.equal(await later.getByTestId('approval-note').inputValue(), 'checked the hosts');
    await later.getByTestId('approval-approve').click();
    await page.getByTestId('approvals').getByText('No pending requests.').waitFor();

    await page.getByTestId('approvals-status').selectOption('approved');
    const decided = page.getByTestId('approval').filter({ hasText: 'fetcher v1' });
    await decided.getByTestId('approval-decision').getByText(/approved .*: partner integration/).waitFor();
    // Changing a decision asks first, and says what a rejection does; declined, nothing changes.
    page.answer = 'dismiss';
    await decided.getByTestId('approval-reject').click();
    assert.match(page.asked.at(-1) ?? '', /^fetcher v1 was approved\. Reject it instead\? .*go back under review\.$/);
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, { token: carol.key })).body.approvalStatus, 'approved');
    page.answer = 'accept';
    await decided.getByTestId('approval-reject').click();
    await page.getByTestId('approvals-notice').getByText('fetcher v1 of Carol Ltd: rejected.').waitFor();
    const version1 = await api.http.get(`/v1/plugins/${pluginId}/versions/1`, { token: carol.key });
    assert.equal(version1.body.approvalStatus, 'rejected');
    const [rejected] = (await api.http.get('/v1/admin/approvals?status=rejected', { token: api.adminToken })).body.items;
    assert.equal(rejected.note, 'partner integration', 'the note is kept unless changed');
    await page.getByTestId('audit').getByText('approval.rejected').first().waitFor();
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('says so when another admin decided a request first, and shows the decision', async () => {
    const pluginId = (await api.http.post('/v1/plugins', { token: carol.key, body: { name: 'poster' } })).body.id as string;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: carol.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } });
    const page = await signIn(api.adminToken);
    const request = page.getByTestId('approval').filter({ hasText: 'poster v1' });
    await request.waitFor();
    const [pending] = (await api.http.get('/v1/admin/approvals?status=pending', { token: api.adminToken })).body.items;
    assert.equal((await api.http.post(`/v1/admin/approvals/${pending.id}`, { token: api.adminToken, body: { decision: 'reject' } })).status, 200);
    await request.getByTestId('approval-approve').click();
    await page.getByTestId('approvals-notice').getByText('poster v1 was decided meanwhile; the list shows its decision now.').waitFor();
    await page.getByTestId('approvals').getByText('No pending requests.').waitFor();
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, { token: carol.key })).body.approvalStatus, 'rejected', 'the first decision stands');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
