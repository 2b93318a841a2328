import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { launchChromium } from '../support/browser.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

/**
 * A dead letter in the web editor: a run whose failures outlasted its retries
 * shows as such among the plugin's runs, and runs again from there once its
 * cause is fixed.
 */
describe('dead letters in the web editor', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let browser: Browser;
  let dana: TenantSession;

  before(async () => {
    // One attempt: a transient failure is dead-lettered at once.
    api = await startApi({ env: { AIRLOCK_JOB_ATTEMPTS: '1' } });
    worker = await startWorker(api);
    dana = await createTenantSession(api, 'Dana GmbH');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await worker?.close();
    await api?.close();
  });

  it('shows a dead letter and runs it again, as a new invocation, once its cause is fixed', async () => {
    const { pluginId } = await publishAndBind(api, dana, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const binding = await api.http.post('/v1/bindings', { token: dana.key, body: { event: 'order.sealed', pluginId, export: 'greet', secrets: { TOKEN: 'opaque' } } });
    assert.equal(binding.status, 201, binding.text);
    // Its secrets no longer open (damaged at rest): the worker cannot prepare the run, a host failure.
    await api.database.prisma.binding.update({ where: { id: binding.body.id }, data: { secrets: 'v1.damaged' } });
    const event = await api.http.post('/v1/events', { token: dana.key, body: { type: 'order.sealed', payload: 'Ada' } });
    const letterId = event.body.invocations[0].id as string;
    const dead = await waitUntilFinished(api, dana.key, letterId);
    assert.equal(dead.status, 'host_error');
    assert.ok(dead.deadLetteredAt, 'dead-lettered');
    // The binding's secrets set again: the cause is gone.
    const fixed = await api.http.request('PATCH', `/v1/bindings/${binding.body.id}`, { token: dana.key, body: { secrets: { TOKEN: 'fresh' } } });
    assert.equal(fixed.status, 200, fixed.text);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${api.baseUrl}/`);
    await page.getByTestId('api-key').fill(dana.key);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('plugin-greeter').click();
    await page.getByTestId('runs').locator('tr').filter({ hasText: 'host_error' }).click();
    const letter = page.getByTestId('dead-letter');
    await letter.getByText(/^Dead-lettered .*every retry failed/).waitFor();

    // A version the plugin does not have: the API's reason, and nothing queued.
    await letter.getByTestId('replay-version').fill('99');
    await letter.getByTestId('replay').click();
    await letter.getByTestId('replay-result').getByText(/no version 99/).waitFor();

    await letter.getByTestId('replay-version').fill('1');
    await letter.getByTestId('replay').click();
    const queued = (await letter.getByTestId('replay-result').getByText(/^Queued as invocation/).textContent()) ?? '';
    const replayId = /invocation ([0-9a-f-]{36}) on v1/.exec(queued)?.[1];
    assert.ok(replayId, queued);
    const replayed = await waitUntilFinished(api, dana.key, replayId);
    assert.deepEqual([replayed.status, replayed.output, replayed.replayOf], ['ok', 'hello, "Ada"', letterId]);

    await page.getByTestId('refresh-runs').click();
    await page.getByTestId('runs').locator('tr').filter({ hasText: 'ok' }).first().click();
    await page.getByTestId('run-detail').getByText(`A replay of dead letter ${letterId}.`).waitFor();
    assert.equal(await page.getByTestId('dead-letter').count(), 0, 'a run that finished is no dead letter');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
