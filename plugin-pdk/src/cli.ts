// airlock-pdk build <entry.ts> -o <out.wasm>
// Compiles a plugin with the kit's release flags: the same compile the API runs on editor source.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { compilePlugin } from './compile-plugin.js';

const USAGE = 'Usage: airlock-pdk build <entry.ts> -o <out.wasm>';

const RELATIVE_IMPORT = /(?:from|import)\s+["'](\.{1,2}\/[^"']+)["']/g;

/** The entry and every file it imports by a relative path, transitively, keyed relative to the entry's directory. */
async function sourceFiles(entry: string): Promise<Record<string, string>> {
  const root = dirname(entry);
  const found: Record<string, string> = {};
  const pending = [entry];
  while (pending.length > 0) {
    const path = pending.pop()!;
    const key = relative(root, path).split('\\').join('/');
    if (key in found) continue;
    // A file that is not there is left to the compiler: an import of it is an error it reports where it is written,
    // and a match in a comment or a string is no import at all.
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (path !== entry && error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) continue;
    found[key] = text;
    for (const [, specifier] of text.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(path), specifier!);
      pending.push(target.endsWith('.ts') ? target : `${target}.ts`);
    }
  }
  return found;
}

async function main(args: string[]): Promise<number> {
  const outAt = args.indexOf('-o');
  const [command, entryPath] = args;
  const outPath = outAt === -1 ? undefined : args[outAt + 1];
  if (command !== 'build' || entryPath === undefined || outPath === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const dir = dirname(resolve(entryPath));
  let files: Record<string, string>;
  try {
    files = await sourceFiles(resolve(entryPath));
  } catch (error) {
    process.stderr.write(`cannot read the plugin's source: ${(error as Error).message}\n`);
    return 1;
  }
  const result = await compilePlugin({ files, entry: basename(entryPath) });
  for (const diagnostic of result.diagnostics) {
    const where = diagnostic.file === '' ? '' : `${join(relative(process.cwd(), dir), diagnostic.file)}:${diagnostic.line}:${diagnostic.column}: `;
    process.stderr.write(`${where}${diagnostic.severity}: ${diagnostic.message}\n`);
  }
  if (!result.ok) return 1;
  await writeFile(outPath, result.wasm);
  process.stdout.write(`wrote ${outPath} (${result.wasm.length} bytes)\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
