import type { PluginSource } from './code-editor.js';

/**
 * Edits not compiled when Airlock refused the key mid-session (revoked): the
 * developer did not choose to drop them, so they wait in this tab's
 * sessionStorage (gone with the tab, as the key is) for the next sign-in with
 * a key of the same tenant, which puts them back over their plugin. One set is
 * kept, the last; another tenant signing in meanwhile is not shown it.
 */
export interface KeptEdits {
  tenantId: string;
  pluginId: string;
  pluginName: string;
  source: PluginSource;
  /** The declared tests as typed, when they were edited too. */
  tests?: string;
}

const ITEM = 'airlock.keptEdits';

/** False when the browser would not store them (storage full or off): then they are lost with the page. */
export function keepEdits(edits: KeptEdits): boolean {
  try {
    sessionStorage.setItem(ITEM, JSON.stringify(edits));
    return true;
  } catch {
    return false;
  }
}

/** The edits kept for `tenantId`, if any. */
export function keptEditsOf(tenantId: string): KeptEdits | null {
  const text = sessionStorage.getItem(ITEM);
  if (text === null) return null;
  try {
    const kept = JSON.parse(text) as KeptEdits;
    return kept.tenantId === tenantId ? kept : null;
  } catch {
    return null;
  }
}

export function forgetKeptEdits(): void {
  sessionStorage.removeItem(ITEM);
}
