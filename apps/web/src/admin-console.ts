import type { ApiClient } from './api-client.js';
import { type TenantView, TIERS } from './admin-types.js';
import { ApprovalsPanel } from './approvals-panel.js';
import { AuditPanel } from './audit-panel.js';
import { fill, h, untrusted } from './dom.js';
import { Notice } from './notice.js';
import { TenantPanel } from './tenant-panel.js';

/**
 * What the admin token opens: the tenants on the left (and a form for a new
 * one); the selected tenant's keys, quota and usage in the middle; permission
 * approvals and the audit log on the right.
 */
export class AdminConsole {
  readonly element: HTMLElement;
  private tenants: TenantView[] = [];
  private selected: TenantView | null = null;
  private readonly tenantList = h('ul', { className: 'plugins', testId: 'tenant-list' });
  private readonly notice = new Notice('notice');
  private readonly tenantPanel: TenantPanel;
  private readonly approvals: ApprovalsPanel;
  private readonly audit: AuditPanel;

  constructor(
    private readonly client: ApiClient,
    onSignOut: () => void,
  ) {
    const signOut = h('button', { className: 'link' }, 'Sign out');
    signOut.addEventListener('click', onSignOut);
    const name = (tenantId: string) => this.tenants.find((tenant) => tenant.id === tenantId)?.name ?? tenantId;
    // Every change an admin makes is an entry of the audit log: it is read again after each.
    const changedAnything = () => void this.audit.load();
    this.tenantPanel = new TenantPanel(client, {
      tier: (changed) => {
        this.tenants = this.tenants.map((tenant) => (tenant.id === changed.id ? changed : tenant));
        if (this.selected?.id === changed.id) this.selected = changed;
        this.renderTenants();
      },
      any: changedAnything,
    });
    this.approvals = new ApprovalsPanel(client, name, changedAnything);
    this.audit = new AuditPanel(client, name);
    // Tenants made elsewhere (another admin, the API) show when asked for.
    const refreshTenants = h('button', { className: 'link', testId: 'refresh-tenants' }, 'refresh');
    refreshTenants.addEventListener('click', () => void this.loadTenants());
    this.element = h(
      'div',
      { className: 'workbench' },
      h('header', {}, h('h1', {}, 'Airlock'), h('span', { className: 'tenant', testId: 'admin-badge' }, 'Admin'), signOut),
      h('aside', {}, h('h3', {}, 'Tenants ', refreshTenants), this.newTenantForm(), this.notice.element, this.tenantList),
      h('main', { className: 'admin-main' }, this.tenantPanel.element),
      h('div', { className: 'side' }, this.approvals.element, this.audit.element),
    );
  }

  async start(): Promise<void> {
    await this.loadTenants();
    await Promise.all([this.approvals.load(), this.audit.load()]);
  }

  dispose(): void {
    this.tenants = [];
  }

  private newTenantForm(): HTMLElement {
    const name = h('input', { placeholder: 'tenant name', required: true, maxLength: 200, testId: 'new-tenant-name', ariaLabel: 'name of the new tenant' });
    const tier = h('select', { testId: 'new-tenant-tier', ariaLabel: 'tier of the new tenant' }, ...TIERS.map((value) => h('option', { value }, value)));
    const fields = h('fieldset', { className: 'new-plugin' }, name, tier, h('button', { type: 'submit', testId: 'create-tenant' }, 'New tenant'));
    const form = h('form', {}, fields);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // One click, one tenant: the form is off until it is made and open.
      fields.disabled = true;
      void this.notice
        .guard(async () => {
          const tenant = await this.client.post<TenantView>('/v1/admin/tenants', { name: name.value.trim(), tier: tier.value });
          name.value = '';
          this.tenants.push(tenant);
          this.notice.say(['Tenant ', untrusted(tenant.name), ' created. Give it a key below.']);
          await this.select(tenant);
          void this.audit.load();
        })
        .finally(() => (fields.disabled = false));
    });
    return form;
  }

  private async loadTenants(): Promise<void> {
    await this.notice.guard(async () => {
      this.tenants = await this.client.all<TenantView>('/v1/admin/tenants');
      this.renderTenants();
      const first = this.tenants[0];
      if (first !== undefined && this.selected === null) await this.select(first);
    });
  }

  private async select(tenant: TenantView): Promise<void> {
    this.selected = tenant;
    this.renderTenants();
    await this.tenantPanel.show(tenant);
  }

  private renderTenants(): void {
    fill(
      this.tenantList,
      ...this.tenants.map((tenant) => {
        const button = h('button', { className: 'link', testId: 'tenant' }, untrusted(tenant.name));
        button.addEventListener('click', () => void this.select(tenant));
        const selected = tenant.id === this.selected?.id;
        if (selected) button.ariaCurrent = 'true';
        return h('li', { className: selected ? 'selected' : '' }, button, h('span', { className: 'note' }, ` ${tenant.tier}`));
      }),
    );
  }
}
