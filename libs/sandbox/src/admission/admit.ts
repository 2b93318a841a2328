import { createHash } from 'node:crypto';
import type { SandboxPolicy } from '../policy/sandbox-policy.schema.js';
import { type ExternalKind, type Limits, readModuleLayout, type ModuleLayout } from '../wasm/module-layout.js';
import { WasmFormatError } from '../wasm/wasm-format.error.js';
import { checkImports, describeImports, type ModuleImport, type Permission } from './import-policy.js';
import { instrumentModule, RESERVED_EXPORT_PREFIX } from './instrument-module.js';

/** A module Airlock accepted for a policy: what it runs, and what is known about it. */
export interface AdmittedArtifact {
  /** The module as it runs: metered, memory and tables capped. */
  bytes: Uint8Array;
  /** SHA-256 (hex) of `bytes`: the key of compiled-module caches. */
  artifactHash: string;
  /** SHA-256 (hex) of the bytes as uploaded. */
  originalSha256: string;
  originalSize: number;
  exports: Array<{ name: string; kind: ExternalKind }>;
  /** Exported functions, the names `run` can call. */
  functions: string[];
  /** The module's own imports, as uploaded. */
  imports: ModuleImport[];
  permissions: Permission[];
  memory: { initialPages: number; maxPages: number } | null;
}

export type AdmissionRejectionKind = 'module_too_large' | 'invalid_module' | 'forbidden_import' | 'memory_not_allowed';

export interface AdmissionRejection {
  kind: AdmissionRejectionKind;
  /** A sentence naming the problem: the import, the size, the memory flag. */
  reason: string;
  /** The first 100 imports refused, each name cut to its first 100 characters. */
  forbiddenImports?: Array<{ module: string; name: string; reason: string }>;
}

export type AdmissionResult = { ok: true; artifact: AdmittedArtifact } | { ok: false; rejection: AdmissionRejection };

const reject = (kind: AdmissionRejectionKind, reason: string, extra: Partial<AdmissionRejection> = {}): AdmissionResult => ({
  ok: false,
  rejection: { kind, reason, ...extra },
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Tables a module may have, imported ones included. Toolchains emit one (for indirect calls), a few more
 * with reference types. Each lives in the executor's V8 heap (20,000 tables of 10,000 elements, in an
 * 80 KB module, exhausted it), so their number is bounded as well as their elements.
 */
export const MAX_TABLES = 16;

function memoryProblem(layout: ModuleLayout, policy: SandboxPolicy): string | null {
  if (layout.imports.some((entry) => entry.kind === 'memory')) return 'imports its memory; a plugin must define its own';
  if (layout.memories.length > 1) return `defines ${layout.memories.length} memories; at most one is allowed`;
  const memory: Limits | undefined = layout.memories[0];
  if (memory === undefined) return tableProblem(layout, policy);
  if (memory.is64) return 'uses a 64-bit memory (memory64), which is not allowed';
  if (memory.shared) return 'uses a shared memory, which is not allowed';
  if (memory.initial > BigInt(policy.memoryPages)) {
    return `starts with ${memory.initial} memory pages; the policy allows ${policy.memoryPages}`;
  }
  return tableProblem(layout, policy);
}

/**
 * The tables together hold at most `maxTableElements`, as they start and as they may grow (the rewrite
 * caps each table's maximum at it, so the maxima must add up within it too): funcref tables take about
 * 16 bytes an element of the executor's V8 heap, whose overflow kills the executor, not the call.
 */
function tableProblem(layout: ModuleLayout, policy: SandboxPolicy): string | null {
  const cap = BigInt(policy.maxTableElements);
  const imported = layout.imports.flatMap((entry) => (entry.kind === 'table' && entry.limits ? [entry.limits] : []));
  const tables = [...imported, ...layout.tables];
  if (tables.length > MAX_TABLES) return `has ${tables.length} tables; at most ${MAX_TABLES} are allowed`;
  if (tables.some((limits) => limits.is64)) return 'uses a 64-bit table (table64), which is not allowed';
  const table = tables.find((limits) => limits.initial > cap);
  if (table !== undefined) return `starts with a table of ${table.initial} elements; the policy allows ${policy.maxTableElements}`;
  const initial = tables.reduce((sum, limits) => sum + limits.initial, 0n);
  if (initial > cap) {
    return `starts with ${tables.length} tables of ${initial} elements in all; the policy allows ${policy.maxTableElements} in all`;
  }
  const maxima = tables.reduce((sum, limits) => sum + (limits.maximum !== undefined && limits.maximum < cap ? limits.maximum : cap), 0n);
  if (maxima > cap) {
    return (
      `has ${tables.length} tables that may grow to ${maxima} elements in all; the policy allows ${policy.maxTableElements} in all ` +
      '(declare maxima that add up within it)'
    );
  }
  return null;
}

/** C0 and C1 control characters (U+0000 to U+001F, U+007F to U+009F), which no stored or shown name may hold. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/** A name as a reason may quote it: control characters, quotes and backslashes escaped (\u0000). */
function escapedName(name: string): string {
  const escaped = shortName(name).replace(/[\p{Cc}"\\]/gu, (character) => `\\u${character.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

/** Names a module holds may be megabytes long: said or listed, each is cut to its first 100 characters. */
function shortName(name: string): string {
  return name.length <= 100 ? name : `${name.slice(0, 100)}… (${name.length} characters)`;
}

/** What a call, a test or a binding can name: an export of 1 to 200 characters. */
const MAX_EXPORT_NAME_LENGTH = 200;

/**
 * Whether a function export can be called: one named with nothing, or longer than any call may name it, cannot.
 * Such functions are left out of `functions`, which versions list (a 1.5 MB name made every listing 1.5 MB); the
 * module is still admitted, as modules stored before this rule must be when they run.
 */
const callable = (name: string): boolean => name.length > 0 && name.length <= MAX_EXPORT_NAME_LENGTH;

/** Forbidden imports listed in a refusal, at most: a module may import tens of thousands of functions. */
const MAX_LISTED_IMPORTS = 100;
/** Of those, named in the message. */
const MAX_NAMED_IMPORTS = 10;

/**
 * A name the module exports or imports that holds a control character: the API stores them (a text column
 * cannot hold U+0000) and shows them. The reader refuses names that are not UTF-8 already.
 */
function nameProblem(layout: ModuleLayout): string | null {
  const exported = layout.exports.find((entry) => CONTROL_CHARACTER.test(entry.name));
  if (exported !== undefined) return `the module exports ${escapedName(exported.name)}, a name with a control character`;
  const imported = layout.imports.find((entry) => CONTROL_CHARACTER.test(entry.module) || CONTROL_CHARACTER.test(entry.name));
  if (imported !== undefined) {
    return `the module imports ${escapedName(imported.module)} ${escapedName(imported.name)}, a name with a control character`;
  }
  return null;
}

/**
 * Admits a module for a policy, or says why not. In order: size cap, structure
 * (names in UTF-8 without control characters), memory rules (no memory64, shared
 * or imported memory; initial size within the cap; at most MAX_TABLES tables,
 * within maxTableElements in all), WebAssembly validation, imports against the policy, then the rewrite that
 * caps the memory's maximum and injects fuel metering. Deterministic: the same
 * bytes and policy always give the same artifact and `artifactHash`.
 */
export function admit(bytes: Uint8Array, policy: SandboxPolicy): AdmissionResult {
  if (bytes.length > policy.maxModuleBytes) {
    return reject('module_too_large', `the module is ${bytes.length} bytes; the policy allows ${policy.maxModuleBytes}`);
  }
  let layout: ModuleLayout;
  try {
    layout = readModuleLayout(bytes);
  } catch (error) {
    const detail = error instanceof WasmFormatError ? error.message : String(error);
    return reject('invalid_module', `not a valid WebAssembly module: ${detail}`);
  }
  const badName = nameProblem(layout);
  if (badName !== null) return reject('invalid_module', badName);
  const reserved = layout.exports.find((entry) => entry.name.startsWith(RESERVED_EXPORT_PREFIX));
  if (reserved !== undefined) {
    return reject('invalid_module', `the module exports ${escapedName(reserved.name)}; names starting with ${RESERVED_EXPORT_PREFIX} are reserved`);
  }
  const memory = memoryProblem(layout, policy);
  if (memory !== null) return reject('memory_not_allowed', `the module ${memory}`);
  if (!WebAssembly.validate(bytes as BufferSource)) {
    return reject('invalid_module', `not a valid WebAssembly module: ${validationMessage(bytes)}`);
  }
  const imports = describeImports(layout);
  const verdict = checkImports(imports, policy);
  if (verdict.forbidden.length > 0) {
    const listed = verdict.forbidden.slice(0, MAX_LISTED_IMPORTS).map((entry) => ({ ...entry, module: shortName(entry.module), name: shortName(entry.name) }));
    const names = listed.slice(0, MAX_NAMED_IMPORTS).map((entry) => `"${entry.module}" "${entry.name}" (${entry.reason})`);
    const more = verdict.forbidden.length - names.length;
    return reject('forbidden_import', `the module imports what this policy does not allow: ${names.join('; ')}${more > 0 ? `; and ${more} more` : ''}`, {
      forbiddenImports: listed,
    });
  }
  let instrumented: Uint8Array;
  try {
    instrumented = instrumentModule(layout, { memoryMaxPages: policy.memoryPages, tableMaxElements: policy.maxTableElements });
  } catch (error) {
    return reject('invalid_module', `the module cannot be metered: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!WebAssembly.validate(instrumented as BufferSource)) {
    return reject('invalid_module', `the module cannot be metered: ${validationMessage(instrumented)}`);
  }
  const declared = layout.memories[0];
  return {
    ok: true,
    artifact: {
      bytes: instrumented,
      artifactHash: sha256(instrumented),
      originalSha256: sha256(bytes),
      originalSize: bytes.length,
      exports: layout.exports.map(({ name, kind }) => ({ name, kind })),
      functions: layout.exports.filter((entry) => entry.kind === 'function' && callable(entry.name)).map((entry) => entry.name),
      imports,
      permissions: verdict.permissions,
      memory:
        declared === undefined
          ? null
          : {
              initialPages: Number(declared.initial),
              maxPages: Math.min(Number(declared.maximum ?? BigInt(policy.memoryPages)), policy.memoryPages),
            },
    },
  };
}

function validationMessage(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes as BufferSource);
    return 'rejected by the WebAssembly validator';
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
  }
}
