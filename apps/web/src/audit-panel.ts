import type { ApiClient } from './api-client.js';
import type { AuditEvent } from './admin-types.js';
import { fill, h, untrusted } from './dom.js';
import { explain } from './explain.js';

/** The newest entries of the audit log of every tenant: who changed what, and when. */
export class AuditPanel {
  readonly element: HTMLElement;
  private readonly rows = h('tbody', { testId: 'audit' });

  constructor(
    private readonly client: ApiClient,
    private readonly tenantName: (tenantId: string) => string,
  ) {
    const refresh = h('button', { className: 'link', testId: 'refresh-audit' }, 'refresh');
    refresh.addEventListener('click', () => void this.load());
    this.element = h(
      'section',
      {},
      h('h3', {}, 'Audit log ', refresh),
      h('table', { className: 'runs' }, h('thead', {}, h('tr', {}, ...['when', 'tenant', 'who', 'what'].map((label) => h('th', {}, label)))), this.rows),
    );
  }

  async load(): Promise<void> {
    try {
      const page = await this.client.get<{ items: AuditEvent[] }>('/v1/admin/audit?limit=50');
      fill(
        this.rows,
        ...page.items.map((event) =>
          h(
            'tr',
            { testId: 'audit-row' },
            h('td', {}, new Date(event.createdAt).toLocaleString()),
            h('td', {}, event.tenantId === null ? '–' : untrusted(this.tenantName(event.tenantId))),
            h('td', {}, event.actor),
            h('td', {}, event.action, event.target === null ? null : h('span', { className: 'note' }, ` ${event.target}`)),
          ),
        ),
      );
    } catch (error) {
      fill(this.rows, h('tr', {}, h('td', { className: 'problem', colSpan: 4 }, explain(error))));
    }
  }
}
