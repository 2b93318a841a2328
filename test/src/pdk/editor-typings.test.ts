import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';

const PDK = new URL('../../../plugin-pdk/', import.meta.url);

describe('the editor typings of the kit', () => {
  it('declare every class, enum and function the kit exports, and every public method', async () => {
    const typings = await readFile(new URL('editor/airlock-pdk.d.ts', PDK), 'utf8');
    const index = await readFile(new URL('assembly/index.ts', PDK), 'utf8');
    const exported = [...index.matchAll(/export \{ ([^}]+) \}/g)].flatMap((match) => match[1]!.split(',').map((name) => name.trim()));
    exported.push(...[...index.matchAll(/^export function (\w+)/gm)].map((match) => match[1]!));
    for (const name of exported) assert.match(typings, new RegExp(`export (class|enum|function|\\{) ?${name}\\b`), name);
    for (const file of await readdir(new URL('assembly/', PDK))) {
      const source = await readFile(new URL(`assembly/${file}`, PDK), 'utf8');
      for (const [, method] of source.matchAll(/^ {2}static (\w+)\(/gm)) assert.match(typings, new RegExp(`static ${method}\\(`), `${file}: ${method}`);
    }
  });
});
