import type { ApiClient, Binding, Plugin, Version } from './api-client.js';
import { fill, h } from './dom.js';
import { explain } from './explain.js';
import { parseStringMap } from './string-map.js';

/**
 * The plugin's bindings: which events run which export of which version,
 * with what config and secrets (the plugin reads both with `Config.get`;
 * secrets are write-only: their names are shown, never their values).
 * A binding is made here, reconfigured, switched on and off, and removed.
 */
export class BindingsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ul', { className: 'bindings', testId: 'bindings' });
  private readonly event = h('input', { placeholder: 'order.created', required: true, testId: 'binding-event' });
  private readonly exportSelect = h('select', { testId: 'binding-export' });
  private readonly versionSelect = h('select', { testId: 'binding-version' });
  private readonly config = h('textarea', { rows: 2, spellcheck: false, placeholder: 'config: {"minTotal": "100"}', testId: 'binding-config' });
  private readonly secrets = h('textarea', { rows: 2, spellcheck: false, autocomplete: 'off', placeholder: 'secrets: {"API_TOKEN": "..."}', testId: 'binding-secrets' });
  private readonly message = h('p', { className: 'problem', testId: 'binding-problem' });
  private plugin: Plugin | null = null;

  constructor(private readonly client: ApiClient) {
    const form = h(
      'form',
      { className: 'new-binding' },
      this.event,
      this.exportSelect,
      this.versionSelect,
      this.config,
      this.secrets,
      h('button', { type: 'submit', testId: 'create-binding' }, 'Bind'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.act(async (plugin) => {
        const version = this.versionSelect.value === 'latest' ? 'latest' : Number(this.versionSelect.value);
        const config = parseStringMap(this.config.value, 'config');
        const secrets = parseStringMap(this.secrets.value, 'secrets');
        await this.client.post('/v1/bindings', { event: this.event.value.trim(), pluginId: plugin.id, export: this.exportSelect.value, version, config, secrets });
        this.event.value = '';
        this.config.value = '';
        this.secrets.value = '';
      });
    });
    this.element = h('div', {}, h('h3', {}, 'Bindings'), this.list, form, this.message);
  }

  /** Shows `plugin`'s bindings; new ones may name an export of `versions` (the newest's first). */
  async show(plugin: Plugin, versions: Version[]): Promise<void> {
    this.plugin = plugin;
    const exports = [...new Set(versions.toReversed().flatMap((version) => version.exports))];
    fill(this.exportSelect, ...exports.map((name) => h('option', { value: name }, name)));
    fill(
      this.versionSelect,
      h('option', { value: 'latest' }, 'latest published'),
      ...versions.filter((version) => version.status === 'published').map((version) => h('option', { value: String(version.number) }, `v${version.number}`)),
    );
    this.message.textContent = '';
    await this.reload();
  }

  private async reload(): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    const { items } = await this.client.get<{ items: Binding[] }>(`/v1/bindings?pluginId=${encodeURIComponent(plugin.id)}`);
    if (plugin !== this.plugin) return;
    fill(this.list, ...items.map((binding) => this.row(binding)));
  }

  private row(binding: Binding): HTMLElement {
    const runs = binding.resolvedVersion === null ? 'no published version yet' : `runs v${binding.resolvedVersion}`;
    const toggle = h('input', { type: 'checkbox', checked: binding.enabled, title: 'enabled', testId: 'binding-enabled' });
    toggle.addEventListener('change', () => void this.act(() => this.client.patch(`/v1/bindings/${binding.id}`, { enabled: toggle.checked })));
    const remove = h('button', { className: 'link' }, 'remove');
    remove.addEventListener('click', () => {
      if (confirm(`Remove the binding of ${binding.event}? What it has queued will not run.`)) void this.act(() => this.client.delete(`/v1/bindings/${binding.id}`));
    });
    const settings = this.settingsForm(binding);
    const edit = h('button', { className: 'link' }, 'settings');
    edit.addEventListener('click', () => (settings.hidden = !settings.hidden));
    const configured = Object.keys(binding.config);
    return h(
      'li',
      { testId: `binding-${binding.event}` },
      toggle,
      ' ',
      h('strong', {}, binding.event),
      ` → ${binding.export} (${binding.version === 'latest' ? 'latest' : `v${binding.version}`}, ${runs})`,
      configured.length === 0 ? null : ` · config: ${configured.join(', ')}`,
      binding.secretNames.length === 0 ? null : ` · secrets: ${binding.secretNames.join(', ')}`,
      ' ',
      edit,
      ' ',
      remove,
      settings,
    );
  }

  /** A binding's config, replaced whole; its secrets replaced only when new ones are typed, or all removed. */
  private settingsForm(binding: Binding): HTMLElement {
    const config = h('textarea', { rows: 3, spellcheck: false, value: JSON.stringify(binding.config, null, 1), testId: 'settings-config' });
    const secrets = h('textarea', {
      rows: 2,
      spellcheck: false,
      autocomplete: 'off',
      placeholder: binding.secretNames.length === 0 ? 'secrets: {"API_TOKEN": "..."}' : `new secrets replace ${binding.secretNames.join(', ')}; empty keeps them`,
      testId: 'settings-secrets',
    });
    const clear = h('input', { type: 'checkbox', testId: 'settings-clear-secrets' });
    const save = h('button', { type: 'submit', testId: 'settings-save' }, 'Save');
    const form = h('form', { className: 'binding-settings', hidden: true }, config, secrets, h('label', {}, clear, ' remove every secret'), save);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.act(async () => {
        const change: Record<string, unknown> = { config: parseStringMap(config.value, 'config') };
        if (clear.checked) change.secrets = null;
        else if (secrets.value.trim() !== '') change.secrets = parseStringMap(secrets.value, 'secrets');
        await this.client.patch(`/v1/bindings/${binding.id}`, change);
      });
    });
    return form;
  }

  /** Does something to the bindings, then shows them as they now are (even when it failed). */
  private async act(action: (plugin: Plugin) => Promise<unknown>): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    this.message.textContent = '';
    try {
      await action(plugin);
    } catch (error) {
      this.message.textContent = explain(error);
    }
    await this.reload().catch((error: unknown) => (this.message.textContent = explain(error)));
  }
}
