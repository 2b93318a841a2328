import type { ApiClient } from './api-client.js';
import { fill, h, untrusted, untrustedText } from './dom.js';
import { modal } from './modal.js';
import { Notice } from './notice.js';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string;
}

/** One posting of one invocation's result to one webhook. */
interface Delivery {
  id: string;
  invocationId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** How many of a webhook's deliveries are shown (newest first). */
const SHOWN_DELIVERIES = 20;

/**
 * The tenant's result webhooks, in a dialog over the editor: each finished
 * invocation of the listed event types (or of all) is posted, signed, to each
 * URL. A new webhook's signing secret is shown once; each webhook's recent
 * deliveries show their status, attempts and last answer.
 */
export class WebhooksDialog {
  readonly element: HTMLDialogElement;
  private readonly list = h('ul', { className: 'bindings', testId: 'webhooks' });
  private readonly notice = new Notice('webhooks-notice');
  private readonly secret = h('div', { testId: 'webhook-secret' });
  /** The webhook whose secret is shown, and whether it was shown with the dialog open (then the next opening hides it). */
  private secretOf: { webhookId: string; seen: boolean } | null = null;
  private readonly url = h('input', { type: 'url', placeholder: 'https://example.com/airlock-results', required: true, testId: 'webhook-url', ariaLabel: 'URL the results are posted to' });
  private readonly events = h('input', { placeholder: 'event types, comma-separated (empty: all)', testId: 'webhook-events', ariaLabel: 'event types whose results are posted' });
  private readonly fields = h('fieldset', { className: 'new-binding' }, this.url, this.events, h('button', { type: 'submit', testId: 'create-webhook' }, 'Add webhook'));

  constructor(private readonly client: ApiClient) {
    const form = h('form', {}, this.fields);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create();
    });
    this.element = modal(
      'Result webhooks',
      'webhooks-dialog',
      h('p', { className: 'note' }, 'Deliveries carry Airlock-Timestamp and Airlock-Signature: v1=HMAC-SHA256(secret, "<timestamp>.<body>"), are retried with backoff, and never go to private addresses.'),
      this.notice.element,
      form,
      this.secret,
      this.list,
    );
  }

  async open(): Promise<void> {
    // A secret is shown once: gone the next time the dialog opens (unless it arrived while the dialog was closed).
    if (this.secretOf?.seen) this.showSecret(null);
    else if (this.secretOf !== null) this.secretOf.seen = true;
    this.notice.say('');
    this.element.showModal();
    await this.reload();
  }

  private async reload(): Promise<void> {
    await this.notice.guard(async () => {
      const { items } = await this.client.get<{ items: Webhook[] }>('/v1/webhooks');
      fill(this.list, ...(items.length === 0 ? [h('li', { className: 'note' }, 'No webhooks yet.')] : items.map((webhook) => this.item(webhook))));
    });
  }

  private item(webhook: Webhook): HTMLElement {
    const deliveries = h('div', {});
    const remove = h('button', { className: 'link', testId: 'delete-webhook', ariaLabel: `delete the webhook to ${untrustedText(webhook.url)}` }, 'delete');
    remove.addEventListener('click', () => void this.remove(webhook, remove));
    const show = h('button', { className: 'link', testId: 'show-deliveries', ariaLabel: `deliveries to ${untrustedText(webhook.url)}` }, 'deliveries');
    show.addEventListener('click', () => void this.showDeliveries(webhook, deliveries));
    return h(
      'li',
      { testId: 'webhook' },
      h('code', {}, untrusted(webhook.url)),
      h('div', { className: 'note' }, webhook.events.length === 0 ? 'every event type' : untrusted(webhook.events.join(', '))),
      show,
      ' ',
      remove,
      deliveries,
    );
  }

  /** The webhook's newest deliveries, and older ones page by page on demand. */
  private async showDeliveries(webhook: Webhook, into: HTMLElement): Promise<void> {
    const rows = h('tbody', {});
    const older = h('button', { className: 'link', testId: 'older-deliveries' }, 'older…');
    let cursor: string | null = null;
    const more = async (): Promise<void> => {
      await this.notice.guard(async () => {
        const page = await this.client.get<{ items: Delivery[]; nextCursor: string | null }>(
          `/v1/webhooks/${webhook.id}/deliveries?limit=${SHOWN_DELIVERIES}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        if (cursor === null && page.items.length === 0) rows.append(h('tr', {}, h('td', { className: 'note', colSpan: 5 }, 'No deliveries yet.')));
        rows.append(...page.items.map((delivery) => deliveryRow(delivery)));
        cursor = page.nextCursor;
        older.hidden = cursor === null;
      });
    };
    older.addEventListener('click', () => void more());
    fill(
      into,
      h(
        'table',
        { className: 'runs' },
        h('thead', {}, h('tr', {}, ...['when', 'invocation', 'status', 'attempts', 'last answer'].map((label) => h('th', {}, label)))),
        rows,
      ),
      older,
    );
    older.hidden = true;
    await more();
  }

  private async create(): Promise<void> {
    const events = this.events.value
      .split(',')
      .map((type) => type.trim())
      .filter((type) => type !== '');
    // One click, one webhook (and one secret, the one shown).
    this.fields.disabled = true;
    try {
      await this.notice.guard(async () => {
        const created = await this.client.post<Webhook & { signingSecret: string }>('/v1/webhooks', { url: this.url.value.trim(), events });
        this.url.value = '';
        this.events.value = '';
        this.showSecret(created);
        this.notice.say('Webhook added.');
        await this.reload();
      });
    } finally {
      this.fields.disabled = false;
    }
  }

  private showSecret(created: (Webhook & { signingSecret: string }) | null): void {
    if (created === null) {
      this.secretOf = null;
      this.secret.replaceChildren();
      return;
    }
    this.secretOf = { webhookId: created.id, seen: this.element.open };
    fill(
      this.secret,
      h('p', {}, 'Signing secret of ', untrusted(created.url), '. Copy it now: it is shown this once.'),
      h('code', { className: 'secret', testId: 'webhook-secret-value' }, created.signingSecret),
    );
  }

  private async remove(webhook: Webhook, button: HTMLButtonElement): Promise<void> {
    if (!confirm(`Delete the webhook to ${untrustedText(webhook.url)}? Results are no longer posted there.`)) return;
    // One click, one deletion (a second would be told the webhook is not found).
    button.disabled = true;
    await this.notice.guard(async () => {
      await this.client.delete(`/v1/webhooks/${webhook.id}`);
      if (this.secretOf?.webhookId === webhook.id) this.showSecret(null);
      this.notice.say(['Webhook to ', untrusted(webhook.url), ' deleted.']);
      await this.reload();
    });
    button.disabled = false;
  }
}

function deliveryRow(delivery: Delivery): HTMLElement {
  return h(
    'tr',
    { testId: 'delivery' },
    h('td', {}, new Date(delivery.createdAt).toLocaleString()),
    h('td', {}, delivery.invocationId),
    h('td', {}, delivery.status),
    h('td', {}, String(delivery.attempts)),
    h('td', {}, delivery.lastError ?? (delivery.lastStatus === null ? '–' : `HTTP ${delivery.lastStatus}`)),
  );
}
