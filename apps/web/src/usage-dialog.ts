import type { ApiClient } from './api-client.js';
import { type QuotaView, usedToday } from './admin-types.js';
import { h } from './dom.js';
import { modal } from './modal.js';
import { Notice } from './notice.js';
import { UsageView } from './usage-view.js';

/** The limits a tenant's work runs under, with their names as a reader knows them. */
const LIMITS: Array<[key: string, label: string]> = [
  ['eventsPerSecond', 'events per second'],
  ['invocationsPerDay', 'invocations per day'],
  ['fuelPerDay', 'fuel per day'],
  ['concurrentRuns', 'runs at once'],
  ['fuelPerCall', 'fuel per call'],
  ['timeoutMs', 'time per call (ms)'],
  ['memoryPages', 'memory (64 KiB pages)'],
  ['maxPlugins', 'plugins'],
  ['maxVersionsPerPlugin', 'versions per plugin'],
  ['retentionDays', 'days results are kept'],
];

/** What the tenant may use (its tier and limits) and what it used, per day. */
export class UsageDialog {
  readonly element: HTMLDialogElement;
  private readonly notice = new Notice('usage-notice');
  private readonly limits = h('tbody', { testId: 'limits' });
  private readonly today = h('p', { testId: 'used-today' });
  private readonly usage: UsageView;

  constructor(private readonly client: ApiClient) {
    this.usage = new UsageView(client);
    this.element = modal(
      'Quota and usage',
      'usage-dialog',
      this.notice.element,
      this.today,
      h('table', { className: 'runs' }, this.limits),
      h('h4', {}, 'Usage'),
      this.usage.element,
    );
  }

  async open(): Promise<void> {
    this.element.showModal();
    await Promise.all([
      this.notice.guard(async () => {
        const quota = await this.client.get<QuotaView>('/v1/quota');
        this.today.textContent = usedToday(quota);
        // Counts sit under `quotas`, per-call limits at the top of the policy.
        const quotas = (quota.effective.quotas ?? {}) as Record<string, unknown>;
        const value = (key: string) => quotas[key] ?? quota.effective[key];
        const hosts = ((quota.effective.http as { allowedHosts?: string[] } | undefined)?.allowedHosts ?? []).map(String);
        this.limits.replaceChildren(
          h('tr', {}, h('td', {}, 'tier'), h('td', { testId: 'limit-tier' }, quota.tier)),
          ...LIMITS.filter(([key]) => value(key) !== undefined).map(([key, label]) =>
            h('tr', { testId: `limit-${key}` }, h('td', {}, label), h('td', {}, Number(value(key)).toLocaleString())),
          ),
          h('tr', { testId: 'limit-allowedHosts' }, h('td', {}, 'hosts plugins may call'), h('td', {}, hosts.length === 0 ? 'none' : hosts.join(', '))),
        );
      }),
      this.usage.show('/v1/usage'),
    ]);
  }
}
