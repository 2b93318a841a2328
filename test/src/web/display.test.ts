import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { ApiHarness } from '../support/api-harness.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { startWebStack, type WebStack } from '../support/web-stack.js';

/** Turns the text after it right to left, to the end of its paragraph, unless it is set apart. */
const RIGHT_TO_LEFT_OVERRIDE = '\u202E';
/** Ends the isolation a page puts around a text, when that text is not cleaned of it. */
const POP_DIRECTIONAL_ISOLATE = '\u2069';

/**
 * How the web editor and the admin console show what tenants wrote, and who
 * can use them: a settings form shows when asked; runs open from the
 * keyboard and every field has a name; a long name does not push the page's
 * buttons away; a name that turns text right to left turns only itself.
 */
describe('the web editor and admin console, as shown', () => {
  let web: WebStack;
  let api: ApiHarness;
  let mia: TenantSession;

  before(async () => {
    web = await startWebStack();
    api = web.api;
    mia = await createTenantSession(api, 'Mia');
    await publishAndBind(api, mia, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const event = await api.http.post('/v1/events', { token: mia.key, body: { type: 'order.created', payload: 'Ada' } });
    assert.equal((await waitUntilFinished(api, mia.key, event.body.invocations[0].id)).status, 'ok');
  });
  after(() => web?.close());

  const signIn = (token: string) => web.signIn(token);

  it("shows a binding's settings only when asked", async () => {
    const page = await signIn(mia.key);
    await page.getByTestId('plugin-greeter').click();
    const row = page.getByTestId('binding-order.created');
    const settings = row.getByRole('button', { name: 'settings of the binding of order.created' });
    await settings.waitFor();
    assert.equal(await row.getByTestId('settings-config').isVisible(), false);
    await settings.click();
    assert.equal(await row.getByTestId('settings-config').isVisible(), true);
    await settings.click();
    assert.equal(await row.getByTestId('settings-config').isVisible(), false);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('opens a run from the keyboard, and gives every field a name', async () => {
    const page = await signIn(mia.key);
    await page.getByTestId('plugin-greeter').click();
    await page.getByTestId('runs').locator('tr').first().waitFor();
    // From the button before the runs, Tab reaches the newest run, and Enter opens it.
    await page.getByTestId('refresh-runs').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-testid="runs"]') !== null), true, 'the run has the focus');
    await page.keyboard.press('Enter');
    assert.equal(await page.getByTestId('run-detail').getByTestId('run-output').textContent(), 'hello, "Ada"');

    // Each field is found by its name, as a screen reader announces it (a placeholder is no name).
    const named: Record<string, string> = {
      'name of the new plugin': 'new-plugin-name',
      'template of the new plugin': 'new-plugin-template',
      'version shown': 'version-select',
      'export of the test call': 'test-export',
      'input of the test call': 'test-input',
      'config of the test call (JSON)': 'test-config',
      'declared tests (JSON)': 'declared-tests',
      'event type of the new binding': 'binding-event',
      'export the new binding runs': 'binding-export',
      'version the new binding runs': 'binding-version',
      'config of the new binding (JSON)': 'binding-config',
      'secrets of the new binding (JSON)': 'binding-secrets',
      'config of the binding of order.created (JSON)': 'settings-config',
      'new secrets of the binding of order.created (JSON)': 'settings-secrets',
      'lowest level of the log lines shown': 'log-level',
    };
    for (const [name, testId] of Object.entries(named)) {
      assert.deepEqual(await page.getByLabel(name, { exact: true }).evaluateAll((fields) => fields.map((field) => field.getAttribute('data-testid'))), [testId], name);
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it("keeps the header's buttons in view and nothing wider than its place, whatever the length of the names", async () => {
    const name = 'W'.repeat(200);
    const tenant = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name } });
    const key = await api.http.post(`/v1/admin/tenants/${tenant.body.id}/keys`, { token: api.adminToken, body: { name: 'k' } });
    const session = { tenantId: tenant.body.id, keyId: key.body.id, key: key.body.key };
    const event = `${'a'.repeat(49)}.${'b'.repeat(50)}`;
    const pluginName = 'p'.repeat(100);
    await publishAndBind(api, session, { name: pluginName, template: 'hello', event, exportName: 'greet' });
    const webhook = await api.http.post('/v1/webhooks', { token: session.key, body: { url: `https://hooks.example.com/${'x'.repeat(1500)}`, events: [event] } });
    assert.equal(webhook.status, 201, webhook.text);

    const page = await signIn(session.key);
    const header = page.getByTestId('tenant-name');
    await header.waitFor();
    assert.equal(await header.getAttribute('title'), name, 'the whole name is in its title');
    // Cut to one line, as the buttons beside it take.
    const [nameBox, buttonBox] = [await header.boundingBox(), await page.getByText('Sign out').boundingBox()];
    assert.ok(nameBox !== null && buttonBox !== null && nameBox.height <= buttonBox.height * 1.5, `the name is ${nameBox?.height} px high, a button ${buttonBox?.height} px`);
    await page.getByTestId(`plugin-${pluginName}`).click();
    await page.getByTestId(`binding-${event}`).waitFor();
    await assertFitsWidth(page, page.locator('html'));
    await assertFitsWidth(page, page.locator('aside'));
    await assertFitsWidth(page, page.locator('.side'));
    await assertFitsWidth(page, page.locator('main'));
    await assertInView(page, page.getByText('Sign out'));
    await page.getByTestId('open-webhooks').click();
    await page.getByTestId('webhooks-dialog').getByTestId('webhook').waitFor();
    await assertFitsWidth(page, page.getByTestId('webhooks-dialog'));
    assert.deepEqual(page.problems, []);
    await page.close();

    const admin = await signIn(api.adminToken);
    await admin.getByTestId('tenant-list').getByText(name).click();
    await admin.getByTestId('tenant-title').getByText(name).waitFor();
    await assertFitsWidth(admin, admin.locator('html'));
    await assertFitsWidth(admin, admin.locator('aside'));
    await assertFitsWidth(admin, admin.locator('main'));
    await assertInView(admin, admin.getByText('Sign out'));
    await admin.close();
  });

  it('keeps text that turns right to left to itself, not the sentence around it', async () => {
    // A name that first closes whatever the page wraps it in, then turns what follows around.
    const name = `${POP_DIRECTIONAL_ISOLATE}${RIGHT_TO_LEFT_OVERRIDE}Evil Corp`;
    const admin = await signIn(api.adminToken);
    await admin.getByTestId('new-tenant-name').fill(name);
    await admin.getByTestId('create-tenant').click();
    await admin.getByTestId('new-key-name').fill('ci');
    await admin.getByTestId('create-key').click();
    await readsLeftToRight(admin.getByTestId('notice'), 'Give it a key below');
    await readsLeftToRight(admin.getByTestId('tenant-list').locator('li').filter({ hasText: 'Evil Corp' }), 'free');
    await readsLeftToRight(admin.getByTestId('new-key'), 'Copy it now');
    const key = (await admin.getByTestId('new-key-value').textContent()) ?? '';
    await admin.close();

    // A config key of the same kind, in a binding's row: what follows it reads as written.
    const evil: TenantSession = { tenantId: (await api.http.get('/v1/me', { token: key })).body.id, keyId: '', key };
    const { bindingId } = await publishAndBind(api, evil, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const configured = await api.http.request('PATCH', `/v1/bindings/${bindingId}`, { token: key, body: { config: { [name]: 'x' }, secrets: { TOKEN: 'y' } } });
    assert.equal(configured.status, 200, configured.text);
    const page = await signIn(key);
    await page.getByTestId('plugin-greeter').click();
    await readsLeftToRight(page.getByTestId('binding-order.created'), 'secrets');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});

/** Fails unless `element` needs no scrolling sideways: nothing in it is wider than it. */
async function assertFitsWidth(page: Page, element: Locator): Promise<void> {
  const [scrollWidth, clientWidth] = await element.evaluate((node) => [node.scrollWidth, node.clientWidth]);
  assert.ok(scrollWidth <= clientWidth, `${String(element)} is ${scrollWidth} px wide in ${clientWidth} px`);
}

/** Fails unless `element` is within the window, where it can be clicked without scrolling. */
async function assertInView(page: Page, element: Locator): Promise<void> {
  const box = await element.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  assert.ok(box !== null && box.x >= 0 && box.x + box.width <= width, `${String(element)} is at ${JSON.stringify(box)} in a window ${width} px wide`);
}

/** Fails unless the letters of `word`, in `element`'s text, are laid out left to right as written. */
async function readsLeftToRight(element: Locator, word: string): Promise<void> {
  await element.filter({ hasText: word }).waitFor();
  const lefts = await element.evaluate((root, word) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode() as Text | null; node !== null; node = walker.nextNode() as Text | null) {
      const at = node.data.indexOf(word);
      if (at < 0) continue;
      return [...word].map((_, index) => {
        const range = document.createRange();
        range.setStart(node, at + index);
        range.setEnd(node, at + index + 1);
        return range.getBoundingClientRect().left;
      });
    }
    return null;
  }, word);
  assert.ok(lefts !== null, `"${word}" is not in one piece of ${String(element)}`);
  assert.ok(
    lefts.every((left, index) => index === 0 || left > lefts[index - 1]!),
    `"${word}" is laid out ${JSON.stringify(lefts)}`,
  );
}
