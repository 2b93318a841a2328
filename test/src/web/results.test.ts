import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isPrivateAddress } from '@airlock/sandbox';
import { verifyWebhook } from '@airlock/sdk';
import type { ApiHarness } from '../support/api-harness.js';
import type { WatchedPage } from '../support/browser.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { startWebStack, type WebStack } from '../support/web-stack.js';

/**
 * What becomes of a tenant's results, in the web editor: a run whose failures
 * outlasted its retries shows as a dead letter and runs again from there; the
 * results' webhooks are registered, watched and deleted there.
 */
describe("the web editor's dead letters and webhooks", () => {
  let web: WebStack;
  let api: ApiHarness;
  let receiver: Server;
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  let dana: TenantSession;
  let pluginId: string;

  before(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // One attempt: a transient failure is dead-lettered at once.
    web = await startWebStack({
      api: { env: { AIRLOCK_JOB_ATTEMPTS: '1' } },
      // The receiver runs on this machine: its test name may reach loopback.
      worker: { webhookHttp: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (address, host) => host === 'hooks.example.test' || !isPrivateAddress(address) } },
    });
    api = web.api;
    dana = await createTenantSession(api, 'Dana GmbH');
    ({ pluginId } = await publishAndBind(api, dana, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' }));
  });

  after(async () => {
    await web?.close();
    receiver?.close();
  });

  async function signIn(): Promise<WatchedPage> {
    const page = await web.signIn(dana.key);
    await page.getByTestId('tenant-name').getByText('Dana GmbH').waitFor();
    return page;
  }

  it('shows a dead letter and runs it again, as a new invocation, once its cause is fixed', async () => {
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

    const page = await signIn();
    await page.getByTestId('plugin-greeter').click();
    const deadRow = page.getByTestId('runs').locator('tr').filter({ hasText: 'host_error' });
    await deadRow.getByText('(dead letter)').waitFor();
    await deadRow.click();
    const letter = page.getByTestId('dead-letter');
    await letter.getByText(/^Dead-lettered .*every retry failed/).waitFor();

    // A version the plugin does not have: the API's reason, and nothing queued.
    await letter.getByTestId('replay-version').fill('99');
    await letter.getByTestId('replay').click();
    await letter.getByTestId('replay-result').getByText(/no version 99/).waitFor();

    // Emptied, the version is the dead letter's own; a double click queues one replay.
    await letter.getByTestId('replay-version').fill('');
    await letter.getByTestId('replay').dblclick();
    const queued = (await letter.getByTestId('replay-result').getByText(/^Queued as invocation/).textContent()) ?? '';
    assert.equal(await letter.getByTestId('replay').isDisabled(), true, 'queued: not offered again');
    const replayId = /invocation ([0-9a-f-]{36}) on v1/.exec(queued)?.[1];
    assert.ok(replayId, queued);
    const replayed = await waitUntilFinished(api, dana.key, replayId);
    assert.deepEqual([replayed.status, replayed.output, replayed.replayOf], ['ok', 'hello, "Ada"', letterId]);

    await page.getByTestId('refresh-runs').click();
    await page.getByTestId('runs').locator('tr').filter({ hasText: 'ok' }).first().click();
    await page.getByTestId('run-detail').getByText(`A replay of dead letter ${letterId}.`).waitFor();
    const runs = (await api.http.get(`/v1/invocations?pluginId=${pluginId}`, { token: dana.key })).body.items as Array<{ replayOf: string | null }>;
    assert.equal(runs.filter((run) => run.replayOf === letterId).length, 1, 'one replay');
    assert.equal(await page.getByTestId('dead-letter').count(), 0, 'a run that finished is no dead letter');
    // Resolved by that replay: running it once more is asked first.
    await page.getByTestId('runs').locator('tr').filter({ hasText: 'host_error' }).first().click();
    const resolved = page.getByTestId('dead-letter');
    await resolved.getByTestId('replay').click();
    await resolved.getByTestId('replay-result').getByText(/^Queued as invocation/).waitFor();
    assert.deepEqual(page.asked, [`A replay of this dead letter (${replayId}) succeeded already. Run it once more?`]);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('registers a webhook whose secret is shown once, shows its deliveries, and deletes it', async () => {
    const page = await signIn();
    await page.getByTestId('open-webhooks').click();
    const dialog = page.getByTestId('webhooks-dialog');
    await dialog.getByText('No webhooks yet.').waitFor();
    // What the API refuses is said, and nothing is made.
    await dialog.getByTestId('webhook-url').fill('ftp://hooks.example.test/hook');
    await dialog.getByTestId('create-webhook').click();
    await dialog.getByTestId('webhooks-notice').getByText(/must be an http\(s\) URL/).waitFor();

    const url = `http://hooks.example.test:${(receiver.address() as AddressInfo).port}/hook`;
    await dialog.getByTestId('webhook-url').fill(url);
    await dialog.getByTestId('webhook-events').fill('order.created, order.paid');
    // A double click makes one webhook: the one whose secret is shown.
    await dialog.getByTestId('create-webhook').dblclick();
    await dialog.getByTestId('webhooks-notice').getByText('Webhook added.').waitFor();
    const secret = (await dialog.getByTestId('webhook-secret-value').textContent()) ?? '';
    assert.ok(secret.length >= 32, secret);
    const hook = dialog.getByTestId('webhook').filter({ hasText: url });
    await hook.getByText('order.created, order.paid').waitFor();
    assert.equal((await api.http.get('/v1/webhooks', { token: dana.key })).body.items.length, 1);
    // Shown once: closed and opened again, the dialog no longer shows it.
    await dialog.getByTestId('close-webhooks-dialog').click();
    await page.getByTestId('open-webhooks').click();
    await hook.waitFor();
    assert.equal(await dialog.getByTestId('webhook-secret-value').count(), 0);

    // A result is posted, signed with the secret shown; the delivery shows as delivered.
    const event = await api.http.post('/v1/events', { token: dana.key, body: { type: 'order.created', payload: 'Lin' } });
    const invocationId = event.body.invocations[0].id as string;
    assert.equal((await waitUntilFinished(api, dana.key, invocationId)).status, 'ok');
    const deadline = Date.now() + 15_000;
    let cells: string[] = [];
    while (cells[2] !== 'delivered' && Date.now() < deadline) {
      await hook.getByTestId('show-deliveries').click();
      // Read at once, whatever is there: a row not there yet is asked for again.
      const row = hook.getByTestId('delivery').filter({ hasText: invocationId });
      cells = (await row.count()) === 1 ? await row.locator('td').allTextContents() : [];
      if (cells[2] !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(cells.slice(1), [invocationId, 'delivered', '1', 'HTTP 204']);
    const posted = received.find((request) => request.body.toString().includes(invocationId));
    assert.ok(posted, 'the receiver got it');
    assert.equal(verifyWebhook({ secret, headers: posted.headers, body: posted.body }).invocation.id, invocationId, 'signed with the secret the page showed');

    // Deleting asks first; declined, the webhook stays.
    page.answer = 'dismiss';
    await hook.getByTestId('delete-webhook').click();
    // Read without the invisible marks that keep a tenant's text from turning the sentence around.
    assert.match((page.asked.at(-1) ?? '').replace(/[\u2066-\u2069]/g, ''), /^Delete the webhook to http:\/\/hooks\.example\.test:\d+\/hook\?/);
    assert.equal((await api.http.get('/v1/webhooks', { token: dana.key })).body.items.length, 1);
    page.answer = 'accept';
    await hook.getByTestId('delete-webhook').click();
    await dialog.getByTestId('webhooks-notice').getByText(`Webhook to ${url} deleted.`).waitFor();
    await dialog.getByText('No webhooks yet.').waitFor();
    assert.deepEqual((await api.http.get('/v1/webhooks', { token: dana.key })).body.items, []);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  it('shows the tenant its limits and its own usage by day', async () => {
    const quota = await api.http.request('PUT', `/v1/admin/tenants/${dana.tenantId}/quota`, {
      token: api.adminToken,
      body: { tier: 'standard', overrides: { eventsPerSecond: 7, allowedHosts: ['api.example.com'] } },
    });
    assert.equal(quota.status, 200, quota.text);
    const event = await api.http.post('/v1/events', { token: dana.key, body: { type: 'order.created', payload: 'Mo' } });
    assert.equal((await waitUntilFinished(api, dana.key, event.body.invocations[0].id)).status, 'ok');

    const page = await signIn();
    await page.getByTestId('open-usage').click();
    const dialog = page.getByTestId('usage-dialog');
    await dialog.getByTestId('limit-tier').getByText('standard').waitFor();
    const today = await api.http.get('/v1/quota', { token: dana.key });
    assert.equal(
      await dialog.getByTestId('used-today').textContent(),
      `Today (${today.body.today.day}, UTC): ${today.body.today.invocations.toLocaleString('en-US')} of ${today.body.effective.quotas.invocationsPerDay.toLocaleString('en-US')} invocations, ${today.body.today.fuel.toLocaleString('en-US')} of ${today.body.effective.quotas.fuelPerDay.toLocaleString('en-US')} fuel (test runs included), 0 of ${today.body.effective.quotas.concurrentRuns} runs under way.`,
    );
    assert.deepEqual(await dialog.getByTestId('limit-eventsPerSecond').locator('td').allTextContents(), ['events per second', '7']);
    assert.deepEqual(await dialog.getByTestId('limit-allowedHosts').locator('td').allTextContents(), ['hosts plugins may call', 'api.example.com']);
    const row = dialog.getByTestId('usage-row').filter({ hasText: today.body.today.day });
    await row.waitFor();
    const counts = (await row.locator('td').nth(1).textContent()) ?? '';
    assert.match(counts, /host_error 1/, 'the dead letter counts');
    assert.match(counts, /ok [2-9]/, 'and the runs that went well');
    await dialog.getByTestId('close-usage-dialog').click();
    assert.deepEqual(page.problems, []);
    await page.close();

    // Another tenant sees only its own: nothing yet.
    const erin = await createTenantSession(api, 'Erin AB');
    const other = await web.signIn(erin.key);
    await other.getByTestId('open-usage').click();
    await other.getByTestId('usage-dialog').getByTestId('usage-empty').waitFor();
    await other.close();
  });
});
