import { HOST_FUNCTION_SIGNATURES } from '../kernel/extism-kernel.js';
import type { SandboxPolicy } from '../policy/sandbox-policy.schema.js';
import type { ExternalKind, ImportEntry, ModuleLayout } from '../wasm/module-layout.js';

export const WASI_MODULE = 'wasi_snapshot_preview1';

/** What a module can do beyond computing, as recorded for reviews and permission diffs. */
export type Permission = 'http' | 'kv' | 'config' | 'vars' | 'logs' | 'wasi';

export interface ImportVerdict {
  /** Imports the policy refuses, each with the reason. */
  forbidden: Array<{ module: string; name: string; reason: string }>;
  permissions: Permission[];
}

/** An import as admission records it: functions with their signature (`i` i32, `I` i64, `>` between params and results). */
export interface ModuleImport {
  module: string;
  name: string;
  kind: ExternalKind;
  signature?: string;
}

const VALUE_TYPE_LETTER: Record<number, string> = { 0x7f: 'i', 0x7e: 'I', 0x7d: 'f', 0x7c: 'F' };

function signatureOf(layout: ModuleLayout, entry: ImportEntry): string {
  const type = layout.types[entry.typeIndex ?? -1];
  if (type === undefined) return '?';
  const letters = (types: number[]) => types.map((code) => VALUE_TYPE_LETTER[code] ?? '?').join('');
  return `${letters(type.params)}>${letters(type.results)}`;
}

function permissionOf(module: string, name: string): Permission | undefined {
  if (module === WASI_MODULE) return 'wasi';
  if (module === 'airlock:host/env' && name.startsWith('kv_')) return 'kv';
  if (name.startsWith('http_')) return 'http';
  if (name === 'config_get') return 'config';
  if (name === 'var_get' || name === 'var_set') return 'vars';
  if (name.startsWith('log_')) return 'logs';
  return undefined;
}

export function describeImports(layout: ModuleLayout): ModuleImport[] {
  return layout.imports.map((entry) => ({
    module: entry.module,
    name: entry.name,
    kind: entry.kind,
    ...(entry.kind === 'function' ? { signature: signatureOf(layout, entry) } : {}),
  }));
}

/**
 * Checks each import against what the host provides and the policy grants:
 * Extism kernel functions always, Airlock's key-value functions when the policy
 * enables them, WASI preview 1 only when the policy allows it, nothing else.
 * Signatures must match, so a module that would fail to link is refused here.
 */
export function checkImports(imports: readonly ModuleImport[], policy: SandboxPolicy): ImportVerdict {
  const forbidden: ImportVerdict['forbidden'] = [];
  const permissions = new Set<Permission>();
  for (const entry of imports) {
    const refuse = (reason: string) => forbidden.push({ module: entry.module, name: entry.name, reason });
    if (entry.kind !== 'function') {
      refuse(`imports a ${entry.kind}; only host functions can be imported`);
      continue;
    }
    const permission = permissionOf(entry.module, entry.name);
    if (entry.module === WASI_MODULE) {
      if (policy.wasi) permissions.add('wasi');
      else refuse('WASI is not enabled by this policy');
      continue;
    }
    const expected = HOST_FUNCTION_SIGNATURES[entry.module]?.[entry.name];
    if (expected === undefined) {
      refuse('no such host function');
      continue;
    }
    const actual = entry.signature;
    if (actual !== expected) {
      refuse(`has signature ${actual}, the host function has ${expected} (i = i32, I = i64)`);
      continue;
    }
    if (permission === 'kv' && !policy.kv.enabled) {
      refuse('the key-value store is not enabled by this policy');
      continue;
    }
    if (permission !== undefined) permissions.add(permission);
  }
  return { forbidden, permissions: [...permissions].sort() };
}
