import { type ApiClient, ApiError } from './api-client.js';
import type { Approval } from './admin-types.js';
import { fill, h, untrusted } from './dom.js';
import { explain } from './explain.js';
import { Notice } from './notice.js';

const REASONS: Record<Approval['requested'][number]['reason'], string> = {
  beyond_tier: 'beyond its tier',
  new: 'new since the last approved version',
};

/**
 * Plugin versions whose permissions wait for an admin (or got a decision):
 * what each asks for and why it needs asking, what the last approved version
 * had, and approve or reject with a note. A decision already made is changed
 * only on purpose (the API's `revise`), after a confirmation.
 */
export class ApprovalsPanel {
  readonly element: HTMLElement;
  private readonly status = h(
    'select',
    { testId: 'approvals-status', ariaLabel: 'which requests to list' },
    h('option', { value: 'pending' }, 'pending'),
    h('option', { value: 'approved' }, 'approved'),
    h('option', { value: 'rejected' }, 'rejected'),
  );
  private readonly list = h('ul', { className: 'bindings', testId: 'approvals' });
  private readonly notice = new Notice('approvals-notice');
  /** The note fields shown, by approval id: what was typed in them outlives a reload of the list. */
  private notes = new Map<string, HTMLInputElement>();
  /** Loads started: only the latest one's answer is shown (an earlier one may answer last, and be stale). */
  private loads = 0;

  constructor(
    private readonly client: ApiClient,
    /** A tenant's name for its id, when the console knows it. */
    private readonly tenantName: (tenantId: string) => string,
    /** Told after each decision (the audit log has news). */
    private readonly onDecided: () => void,
  ) {
    this.status.addEventListener('change', () => void this.load());
    // Requests arrive as tenants compile: nothing announces them, so the admin asks again.
    const refresh = h('button', { className: 'link', testId: 'refresh-approvals' }, 'refresh');
    refresh.addEventListener('click', () => void this.load());
    this.element = h('section', { className: 'approvals' }, h('h3', {}, 'Permission approvals ', this.status, ' ', refresh), this.notice.element, this.list);
  }

  async load(): Promise<void> {
    const status = this.status.value;
    const load = ++this.loads;
    await this.notice.guard(async () => {
      const approvals = await this.client.all<Approval>(`/v1/admin/approvals?status=${status}`);
      if (this.status.value !== status || load !== this.loads) return;
      const typed = new Map([...this.notes].filter(([, note]) => note.value !== note.defaultValue).map(([id, note]) => [id, note.value]));
      this.notes = new Map();
      fill(this.list, ...(approvals.length === 0 ? [h('li', { className: 'note' }, `No ${status} requests.`)] : approvals.map((approval) => this.item(approval, typed.get(approval.id)))));
    });
  }

  /** One request; `typed` is what was typed in its note before the list was loaded again. */
  private item(approval: Approval, typed: string | undefined): HTMLElement {
    const subject = `${approval.pluginName} v${approval.version}`;
    // A revised decision keeps the note unless it is changed here (the API stores the note sent, or none).
    const note = h('input', { placeholder: 'note (optional)', maxLength: 2000, value: approval.note ?? '', testId: 'approval-note', ariaLabel: `note on ${subject}` });
    // The stored note is the field's default: what differs from it was typed here.
    note.defaultValue = approval.note ?? '';
    if (typed !== undefined) note.value = typed;
    this.notes.set(approval.id, note);
    const decide = (decision: 'approve' | 'reject') => {
      const button = h('button', { testId: `approval-${decision}`, ariaLabel: `${decision} ${subject}` }, decision === 'approve' ? 'Approve' : 'Reject');
      button.addEventListener('click', () => void this.decide(approval, decision, note.value.trim(), decisions));
      return button;
    };
    const other: 'approve' | 'reject' = approval.status === 'approved' ? 'reject' : 'approve';
    const decisions =
      approval.status === 'pending'
        ? h('fieldset', { className: 'new-binding' }, note, decide('approve'), decide('reject'))
        : h(
            'fieldset',
            { className: 'new-binding' },
            h('span', { testId: 'approval-decision' }, `${approval.status} ${approval.decidedAt === null ? '' : new Date(approval.decidedAt).toLocaleString()}${approval.note === null ? '' : ': '}`, approval.note === null ? null : untrusted(approval.note)),
            note,
            decide(other),
          );
    return h(
      'li',
      { className: 'approval', testId: 'approval' },
      h('strong', {}, `${approval.pluginName} v${approval.version}`),
      ' of ',
      untrusted(this.tenantName(approval.tenantId)),
      `, asked ${new Date(approval.createdAt).toLocaleString()}`,
      h('ul', {}, ...approval.requested.map((request) => h('li', {}, h('code', {}, request.permission), ` ${REASONS[request.reason]}`))),
      h('div', { className: 'note' }, `Last approved version had: ${approval.previous.length === 0 ? 'nothing beyond its tier' : approval.previous.join(', ')}`),
      decisions,
    );
  }

  /** Decides, with the request's buttons off until the answer is in: a second click would be told it was "decided meanwhile". */
  private async decide(approval: Approval, decision: 'approve' | 'reject', note: string, decisions: HTMLFieldSetElement): Promise<void> {
    const revise = approval.status !== 'pending';
    const consequence =
      decision === 'reject'
        ? ' Its invocations still queued will not run, and the later versions of the plugin that were let through by it go back under review.'
        : ' It can then be bound and run with these permissions.';
    if (revise && !confirm(`${approval.pluginName} v${approval.version} was ${approval.status}. ${decision === 'approve' ? 'Approve' : 'Reject'} it instead?${consequence}`)) return;
    decisions.disabled = true;
    try {
      const decided = await this.client.post<Approval>(`/v1/admin/approvals/${approval.id}`, { decision, ...(note === '' ? {} : { note }), revise });
      this.notice.say([`${decided.pluginName} v${decided.version} of `, untrusted(this.tenantName(decided.tenantId)), `: ${decided.status}.`]);
      this.onDecided();
    } catch (error) {
      // Most often another admin decided first: the list is read again to show that.
      this.notice.say(error instanceof ApiError && error.status === 409 ? `${approval.pluginName} v${approval.version} was decided meanwhile; the list shows its decision now.` : explain(error), true);
    }
    await this.load();
    // Read again, the list has buttons of its own: these matter only if it could not be read.
    decisions.disabled = false;
  }
}
