import type { ApiClient } from './api-client.js';
import type { Usage } from './admin-types.js';
import { fill, h } from './dom.js';
import { explain } from './explain.js';

const DAY_MS = 86_400_000;
const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/**
 * A tenant's usage per UTC day over a range the reader picks (the last seven
 * days at first): invocations by status, fuel, run time, egress bytes. Read
 * from the tenant's own route or an admin's view of one tenant.
 */
export class UsageView {
  readonly element: HTMLElement;
  private readonly from = h('input', { type: 'date', testId: 'usage-from' });
  private readonly to = h('input', { type: 'date', testId: 'usage-to' });
  private readonly rows = h('tbody', { testId: 'usage' });
  /** Where usage is read from, and whether an answer for it may still be shown. */
  private source: { path: string; current: () => boolean } | null = null;
  /** The usage asked for last: an earlier answer arriving later is not shown over it. */
  private request = 0;

  constructor(private readonly client: ApiClient) {
    const show = h('button', { testId: 'show-usage' }, 'Show');
    show.addEventListener('click', () => void this.load());
    this.element = h(
      'div',
      {},
      h('div', { className: 'new-binding' }, h('label', {}, 'From ', this.from), h('label', {}, 'to (not included) ', this.to), show),
      h(
        'table',
        { className: 'runs' },
        h('thead', {}, h('tr', {}, ...['day (UTC)', 'invocations', 'fuel', 'run ms', 'egress bytes'].map((label) => h('th', {}, label)))),
        this.rows,
      ),
    );
  }

  /** Shows the usage at `path` (`/v1/usage`, `/v1/admin/tenants/:id/usage`) from the last seven days, today included. */
  async show(path: string, current: () => boolean = () => true): Promise<void> {
    this.source = { path, current };
    // The API's `to` is exclusive: tomorrow, to include today.
    this.from.value = isoDay(Date.now() - 6 * DAY_MS);
    this.to.value = isoDay(Date.now() + DAY_MS);
    fill(this.rows);
    await this.load();
  }

  private async load(): Promise<void> {
    const source = this.source;
    if (source === null) return;
    const request = ++this.request;
    const current = () => this.source === source && this.request === request && source.current();
    try {
      // An empty field is left to the API's default (the last 30 days).
      const range = new URLSearchParams(Object.entries({ from: this.from.value, to: this.to.value }).filter(([, value]) => value !== ''));
      const usage = await this.client.get<Usage>(`${source.path}?${range}`);
      if (!current()) return;
      if (usage.days.length === 0) {
        fill(this.rows, h('tr', { testId: 'usage-empty' }, h('td', { className: 'note', colSpan: 5 }, `No invocations from ${usage.from} to ${usage.to} (UTC days).`)));
        return;
      }
      fill(
        this.rows,
        ...usage.days.map((day) =>
          h(
            'tr',
            { testId: 'usage-row' },
            h('td', {}, day.day),
            h('td', {}, Object.entries(day.invocations).map(([status, count]) => `${status} ${count}`).join(', ') || '0'),
            h('td', {}, day.fuel.toLocaleString()),
            h('td', {}, day.runMs.toLocaleString()),
            h('td', {}, day.egressBytes.toLocaleString()),
          ),
        ),
      );
    } catch (error) {
      // Rows of another range are not left under these dates.
      if (!current()) return;
      fill(this.rows, h('tr', {}, h('td', { className: 'problem', colSpan: 5, testId: 'usage-problem' }, explain(error))));
    }
  }
}
