import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { compilePlugin } from '@airlock/plugin-pdk';

export const TEMPLATES_DIR = new URL('../../../plugin-pdk/templates/', import.meta.url);

/** Compiles one AssemblyScript file with the kit, failing the test with its diagnostics. */
export async function compileSource(source: string, name = 'index.ts'): Promise<Uint8Array> {
  const result = await compilePlugin({ files: { [name]: source }, entry: name });
  if (!result.ok) assert.fail(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`).join('\n'));
  return result.wasm;
}

export async function compileTemplate(name: string): Promise<Uint8Array> {
  return compileSource(await readFile(new URL(`${name}.ts`, TEMPLATES_DIR), 'utf8'), `${name}.ts`);
}
