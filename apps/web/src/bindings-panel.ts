import type { ApiClient, Binding, Plugin, Version } from './api-client.js';
import { fill, h, untrusted } from './dom.js';
import { explain } from './explain.js';
import { parseStringMap } from './string-map.js';

/** What a binding's control locks while its request runs: one click, one request. */
type Lockable = HTMLButtonElement | HTMLInputElement | HTMLFieldSetElement;

/** A binding's settings form as shown: whether it is open, and what was typed in it. */
interface SettingsForm {
  form: HTMLFormElement;
  config: HTMLTextAreaElement;
  /** The config as the binding had it when the form was made: other text is typed, not saved. */
  shownConfig: string;
  secrets: HTMLTextAreaElement;
  clear: HTMLInputElement;
}

/** What a redraw keeps of an open or edited settings form. */
interface SettingsDraft {
  open: boolean;
  config: string | null;
  secrets: string;
  clear: boolean;
}

/**
 * The plugin's bindings: which events run which export of which version,
 * with what config and secrets (the plugin reads both with `Config.get`;
 * secrets are write-only: their names are shown, never their values).
 * A binding is made here, reconfigured, switched on and off, and removed.
 */
export class BindingsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ul', { className: 'bindings', testId: 'bindings' });
  private readonly event = h('input', { placeholder: 'order.created', required: true, testId: 'binding-event', ariaLabel: 'event type of the new binding' });
  private readonly exportSelect = h('select', { testId: 'binding-export', ariaLabel: 'export the new binding runs' });
  private readonly versionSelect = h('select', { testId: 'binding-version', ariaLabel: 'version the new binding runs' });
  private readonly config = h('textarea', { rows: 2, spellcheck: false, placeholder: 'config: {"minTotal": "100"}', testId: 'binding-config', ariaLabel: 'config of the new binding (JSON)' });
  private readonly secrets = h('textarea', {
    rows: 2,
    spellcheck: false,
    autocomplete: 'off',
    placeholder: 'secrets: {"API_TOKEN": "..."}',
    testId: 'binding-secrets',
    ariaLabel: 'secrets of the new binding (JSON)',
  });
  /** Off until the open plugin's exports are known: there is nothing to bind before. */
  private readonly bindButton = h('button', { type: 'submit', testId: 'create-binding', disabled: true }, 'Bind');
  private readonly fields = h('fieldset', { className: 'new-binding' }, this.event, this.exportSelect, this.versionSelect, this.config, this.secrets, this.bindButton);
  private readonly message = h('p', { className: 'problem', testId: 'binding-problem' });
  private plugin: Plugin | null = null;
  /** The settings forms of the rows shown, by binding id. */
  private settings = new Map<string, SettingsForm>();

  constructor(private readonly client: ApiClient) {
    const form = h('form', {}, this.fields);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.act(this.fields, async (plugin) => {
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

  /**
   * Switches to `plugin` at once: the rows of the plugin shown before go (their
   * controls would act on it), so does what was typed for a new binding of
   * it, and nothing can be bound until `offer` names this plugin's exports.
   */
  async open(plugin: Plugin): Promise<void> {
    // What was typed for another plugin's binding (secrets above all) is not offered for this one's.
    if (plugin.id !== this.plugin?.id) for (const field of [this.event, this.config, this.secrets]) field.value = '';
    this.plugin = plugin;
    fill(this.list);
    this.settings = new Map();
    this.offer(plugin, []);
    this.message.textContent = '';
    await this.reload().catch((error: unknown) => this.sayFor(plugin, explain(error)));
  }

  /** New bindings of `plugin` may name an export of `versions` (the newest's first). */
  offer(plugin: Plugin, versions: Version[]): void {
    if (plugin !== this.plugin) return;
    const exports = [...new Set(versions.toReversed().flatMap((version) => version.exports))];
    fill(this.exportSelect, ...exports.map((name) => h('option', { value: name }, name)));
    fill(
      this.versionSelect,
      h('option', { value: 'latest' }, 'latest published'),
      ...versions.filter((version) => version.status === 'published').map((version) => h('option', { value: String(version.number) }, `v${version.number}`)),
    );
    this.bindButton.disabled = exports.length === 0;
  }

  /** Shows `plugin`'s bindings as they now are, and what new ones may name (a version was made or published). */
  async refresh(plugin: Plugin, versions: Version[]): Promise<void> {
    if (plugin !== this.plugin) return;
    this.offer(plugin, versions);
    this.message.textContent = '';
    await this.reload();
  }

  /**
   * Shows the plugin's bindings as they now are. Settings forms open or typed in stay as they were (any other
   * binding's change redraws the list), except `saved`'s, whose settings were just saved: it shows them as saved.
   */
  private async reload(saved?: string): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    const items = await this.client.all<Binding>(`/v1/bindings?pluginId=${encodeURIComponent(plugin.id)}`, 50);
    if (plugin !== this.plugin) return;
    const drafts = new Map<string, SettingsDraft>();
    for (const [id, shown] of this.settings) {
      const draft = draftOf(shown);
      if (draft !== null && id !== saved) drafts.set(id, draft);
    }
    this.settings = new Map();
    fill(this.list, ...items.map((binding) => this.row(binding, drafts.get(binding.id))));
  }

  private row(binding: Binding, draft: SettingsDraft | undefined): HTMLElement {
    // Disabled shows in its checkbox; any other reason it runs nothing is said where the version it runs would be.
    const runs = binding.stoppedBecause === null ? `runs v${binding.resolvedVersion}` : binding.enabled ? `runs nothing: ${binding.stoppedBecause}` : 'disabled';
    const toggle = h('input', { type: 'checkbox', checked: binding.enabled, title: 'enabled', testId: 'binding-enabled', ariaLabel: `binding of ${binding.event} enabled` });
    toggle.addEventListener('change', () => void this.act(toggle, () => this.client.patch(`/v1/bindings/${binding.id}`, { enabled: toggle.checked })));
    const remove = h('button', { className: 'link', ariaLabel: `remove the binding of ${binding.event}` }, 'remove');
    remove.addEventListener('click', () => {
      if (confirm(`Remove the binding of ${binding.event}? What it has queued will not run.`)) void this.act(remove, () => this.client.delete(`/v1/bindings/${binding.id}`));
    });
    const edit = h('button', { className: 'link', ariaLabel: `settings of the binding of ${binding.event}`, ariaExpanded: 'false' }, 'settings');
    const settings = this.settingsForm(binding, edit, draft);
    edit.addEventListener('click', () => {
      settings.hidden = !settings.hidden;
      edit.ariaExpanded = String(!settings.hidden);
    });
    const configured = Object.keys(binding.config);
    return h(
      'li',
      { testId: `binding-${binding.event}` },
      toggle,
      ' ',
      h('strong', {}, untrusted(binding.event)),
      ' → ',
      untrusted(binding.export),
      ` (${binding.version === 'latest' ? 'latest' : `v${binding.version}`}, ${runs})`,
      ...(configured.length === 0 ? [] : [' · config: ', ...names(configured)]),
      ...(binding.secretNames.length === 0 ? [] : [' · secrets: ', ...names(binding.secretNames)]),
      ' ',
      edit,
      ' ',
      remove,
      settings,
    );
  }

  /** A binding's config, replaced whole; its secrets replaced only when new ones are typed, or all removed. */
  private settingsForm(binding: Binding, edit: HTMLButtonElement, draft: SettingsDraft | undefined): HTMLFormElement {
    const of = `of the binding of ${binding.event}`;
    const shownConfig = JSON.stringify(binding.config, null, 1);
    const config = h('textarea', { rows: 3, spellcheck: false, value: draft?.config ?? shownConfig, testId: 'settings-config', ariaLabel: `config ${of} (JSON)` });
    const secrets = h('textarea', {
      rows: 2,
      spellcheck: false,
      autocomplete: 'off',
      placeholder: binding.secretNames.length === 0 ? 'secrets: {"API_TOKEN": "..."}' : `new secrets replace ${binding.secretNames.join(', ')}; empty keeps them`,
      testId: 'settings-secrets',
      ariaLabel: `new secrets ${of} (JSON)`,
    });
    const clear = h('input', { type: 'checkbox', checked: draft?.clear ?? false, testId: 'settings-clear-secrets' });
    secrets.value = draft?.secrets ?? '';
    const save = h('button', { type: 'submit', testId: 'settings-save' }, 'Save');
    const form = h('form', { className: 'binding-settings', hidden: !(draft?.open ?? false) }, config, secrets, h('label', {}, clear, ' remove every secret'), save);
    edit.ariaExpanded = String(!form.hidden);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.act(
        save,
        async () => {
          const change: Record<string, unknown> = { config: parseStringMap(config.value, 'config') };
          if (clear.checked) change.secrets = null;
          else if (secrets.value.trim() !== '') change.secrets = parseStringMap(secrets.value, 'secrets');
          await this.client.patch(`/v1/bindings/${binding.id}`, change);
        },
        binding.id,
      );
    });
    this.settings.set(binding.id, { form, config, shownConfig, secrets, clear });
    return form;
  }

  /**
   * Does something to the open plugin's bindings, with `lock` off until it is
   * done (a second click would do it twice), then shows them as they now are
   * (even when it failed). `settingsOf` names the binding whose settings form
   * it saves: done, that form shows what was saved.
   */
  private async act(lock: Lockable, action: (plugin: Plugin) => Promise<unknown>, settingsOf?: string): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    lock.disabled = true;
    this.message.textContent = '';
    let saved: string | undefined;
    try {
      await action(plugin);
      saved = settingsOf;
    } catch (error) {
      this.sayFor(plugin, explain(error));
    } finally {
      lock.disabled = false;
    }
    await this.reload(saved).catch((error: unknown) => this.sayFor(plugin, explain(error)));
  }

  /** Says what went wrong for `plugin`, unless another plugin is shown by now. */
  private sayFor(plugin: Plugin, message: string): void {
    if (plugin === this.plugin) this.message.textContent = message;
  }
}

/** What a redraw must keep of a settings form: null when it is closed and holds nothing typed. */
function draftOf({ form, config, shownConfig, secrets, clear }: SettingsForm): SettingsDraft | null {
  const typedConfig = config.value === shownConfig ? null : config.value;
  if (form.hidden && typedConfig === null && secrets.value === '' && !clear.checked) return null;
  return { open: !form.hidden, config: typedConfig, secrets: secrets.value, clear: clear.checked };
}

/** Names a tenant chose (config keys, secret names), each set apart, between commas. */
function names(list: string[]): Array<string | Node> {
  return list.flatMap((name, index) => (index === 0 ? [untrusted(name)] : [', ', untrusted(name)]));
}
