import type { ApiClient } from './api-client.js';
import type { ApiKeyView, CreatedApiKey, QuotaView, TenantView } from './admin-types.js';
import { TIERS, usedToday } from './admin-types.js';
import { fill, h, untrusted, untrustedText } from './dom.js';
import { explain } from './explain.js';
import { Notice } from './notice.js';
import { UsageView } from './usage-view.js';

const when = (iso: string | null) => (iso === null ? '–' : new Date(iso).toLocaleString());

/**
 * One tenant as an admin manages it: its API keys (made, shown once, revoked),
 * its tier and quota overrides with the policy they add up to, and its usage
 * per day. Answers (and errors) land only if the tenant they were asked for
 * is still open; what the previous tenant showed is cleared at once, so
 * nothing of it can be saved onto the next.
 */
export class TenantPanel {
  readonly element = h('div', { className: 'tenant-panel', testId: 'tenant-panel' });
  private tenant: TenantView | null = null;
  private readonly notice = new Notice('tenant-notice');
  private readonly keys = h('tbody', { testId: 'keys' });
  private readonly newKeyName = h('input', { placeholder: 'key name', maxLength: 200, testId: 'new-key-name', ariaLabel: 'name of the new key' });
  private readonly createKeyButton = h('button', { testId: 'create-key' }, 'Create key');
  private readonly newKey = h('div', { testId: 'new-key' });
  private readonly tier = h('select', { testId: 'quota-tier' }, ...TIERS.map((tier) => h('option', { value: tier }, tier)));
  private readonly overrides = h('textarea', { rows: 8, spellcheck: false, testId: 'quota-overrides', ariaLabel: 'quota overrides (JSON)' });
  private readonly saveQuotaButton = h('button', { testId: 'save-quota', disabled: true }, 'Save tier and overrides');
  private readonly effective = h('pre', { className: 'policy', testId: 'effective-policy' });
  private readonly today = h('p', { testId: 'quota-today' });
  private readonly usage: UsageView;

  constructor(
    private readonly client: ApiClient,
    private readonly changed: {
      /** The tier a save left a tenant on, so the list shows it. */
      tier: (tenant: TenantView) => void;
      /** Something was changed (the audit log has news). */
      any: () => void;
    },
  ) {
    this.usage = new UsageView(client);
    this.createKeyButton.addEventListener('click', () => void this.createKey());
    this.saveQuotaButton.addEventListener('click', () => void this.saveQuota());
  }

  async show(tenant: TenantView): Promise<void> {
    this.tenant = tenant;
    // Nothing of the tenant shown before stays: not its keys, not its quota (which Save would write onto this one).
    fill(this.keys);
    this.overrides.value = '';
    this.effective.textContent = '';
    this.today.textContent = '';
    // Not editable until this tenant's quota is in: typed before, it would be overwritten as it arrives.
    this.setQuotaEditable(false);
    this.notice.say('');
    fill(
      this.element,
      h('h2', { testId: 'tenant-title' }, untrusted(tenant.name)),
      h('p', { className: 'note' }, `Tenant ${tenant.id}, created ${when(tenant.createdAt)}`),
      this.notice.element,
      h('h3', {}, 'API keys'),
      h('table', { className: 'runs' }, h('thead', {}, h('tr', {}, ...['name', 'prefix', 'created', 'last used', ''].map((label) => h('th', {}, label)))), this.keys),
      h('div', { className: 'new-binding' }, this.newKeyName, this.createKeyButton),
      this.newKey,
      h('h3', {}, 'Tier and quota'),
      h('p', { className: 'note' }, 'Overrides replace the tier\'s values; leave a field out to keep the tier\'s. As JSON, e.g. {"eventsPerSecond": 50, "allowedHosts": ["api.example.com"]}.'),
      h('label', {}, 'Tier ', this.tier),
      this.overrides,
      this.saveQuotaButton,
      this.today,
      h('h4', {}, 'Effective policy'),
      this.effective,
      h('h3', {}, 'Usage'),
      this.usage.element,
    );
    await Promise.all([
      this.forTenant(tenant, () => this.loadKeys(tenant)),
      this.forTenant(tenant, () => this.loadQuota(tenant)),
      this.usage.show(`/v1/admin/tenants/${tenant.id}/usage`, () => this.tenant === tenant),
    ]);
  }

  private async loadKeys(tenant: TenantView): Promise<void> {
    const keys = await this.client.all<ApiKeyView>(`/v1/admin/tenants/${tenant.id}/keys`);
    if (this.tenant !== tenant) return;
    fill(
      this.keys,
      ...keys.map((key) => {
        const revoke = h('button', { className: 'link', testId: 'revoke-key', ariaLabel: `revoke the key ${untrustedText(key.name)}` }, 'Revoke');
        revoke.addEventListener('click', () => void this.revoke(tenant, key, revoke));
        return h(
          'tr',
          { testId: 'key-row' },
          h('td', {}, untrusted(key.name)),
          h('td', {}, h('code', {}, key.prefix)),
          h('td', {}, when(key.createdAt)),
          h('td', {}, when(key.lastUsedAt)),
          h('td', {}, key.revokedAt === null ? revoke : `revoked ${when(key.revokedAt)}`),
        );
      }),
    );
  }

  private async createKey(): Promise<void> {
    const tenant = this.tenant;
    if (tenant === null) return;
    const name = this.newKeyName.value.trim();
    // One click, one key.
    this.createKeyButton.disabled = true;
    try {
      await this.forTenant(tenant, async () => {
        const created = await this.client.post<CreatedApiKey>(`/v1/admin/tenants/${tenant.id}/keys`, name === '' ? {} : { name });
        this.changed.any();
        // Shown whichever tenant is open by now: it is shown this once.
        this.newKeyName.value = '';
        fill(
          this.newKey,
          h('p', {}, 'Key "', untrusted(created.name), '" for ', untrusted(tenant.name), '. Copy it now: it is shown this once, Airlock keeps only its hash.'),
          h('code', { className: 'secret', testId: 'new-key-value' }, created.key),
        );
        if (this.tenant === tenant) await this.loadKeys(tenant);
      });
    } finally {
      this.createKeyButton.disabled = false;
    }
  }

  private async revoke(tenant: TenantView, key: ApiKeyView, button: HTMLButtonElement): Promise<void> {
    if (!confirm(`Revoke the key "${untrustedText(key.name)}" (${key.prefix}…) of ${untrustedText(tenant.name)}? Whatever uses it is refused at once.`)) return;
    // One click, one revocation (and one entry in the audit log).
    button.disabled = true;
    await this.forTenant(tenant, async () => {
      await this.client.delete(`/v1/admin/tenants/${tenant.id}/keys/${key.id}`);
      this.changed.any();
      if (this.tenant !== tenant) return;
      this.notice.say(['Key "', untrusted(key.name), '" revoked.']);
      await this.loadKeys(tenant);
    });
    button.disabled = false;
  }

  private async loadQuota(tenant: TenantView): Promise<void> {
    const quota = await this.client.get<QuotaView>(`/v1/admin/tenants/${tenant.id}/quota`);
    if (this.tenant !== tenant) return;
    this.showQuota(quota);
  }

  private showQuota(quota: QuotaView): void {
    this.tier.value = quota.tier;
    this.overrides.value = JSON.stringify(quota.overrides, null, 2);
    this.effective.textContent = JSON.stringify(quota.effective, null, 2);
    this.today.textContent = usedToday(quota);
    this.setQuotaEditable(true);
  }

  private setQuotaEditable(editable: boolean): void {
    this.tier.disabled = !editable;
    this.overrides.disabled = !editable;
    this.saveQuotaButton.disabled = !editable;
  }

  private async saveQuota(): Promise<void> {
    const tenant = this.tenant;
    if (tenant === null) return;
    let overrides: unknown;
    try {
      overrides = this.overrides.value.trim() === '' ? {} : JSON.parse(this.overrides.value);
    } catch (error) {
      this.notice.say(`The overrides are not JSON: ${error instanceof Error ? error.message : String(error)}. Nothing was saved.`, true);
      return;
    }
    // One click, one save; and what is typed meanwhile is not overwritten by the answer.
    this.setQuotaEditable(false);
    await this.forTenant(tenant, async () => {
      const quota = await this.client.put<QuotaView>(`/v1/admin/tenants/${tenant.id}/quota`, { tier: this.tier.value, overrides });
      this.changed.tier({ ...tenant, tier: quota.tier });
      this.changed.any();
      if (this.tenant !== tenant) return;
      this.showQuota(quota);
      this.notice.say(['Saved: ', untrusted(tenant.name), ` is on the ${quota.tier} tier.`]);
    });
    // Refused: what was typed stays, to be corrected. Another tenant opened meanwhile is editable once its quota is in.
    if (this.tenant === tenant) this.setQuotaEditable(true);
  }

  /** Runs an action for `tenant`, saying what went wrong, unless another tenant is open by then. */
  private async forTenant(tenant: TenantView, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (this.tenant === tenant) this.notice.say(explain(error), true);
    }
  }
}
