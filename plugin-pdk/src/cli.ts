// airlock-pdk build <entry.ts> -o <out.wasm>
// Compiles a plugin with the kit's release flags: the same compile the API runs on editor source.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { compilePlugin } from './compile-plugin.js';

const USAGE = 'Usage: airlock-pdk build <entry.ts> -o <out.wasm>';

async function sourceFiles(dir: string, root = dir, found: Record<string, string> = {}): Promise<Record<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) await sourceFiles(path, root, found);
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      found[relative(root, path).split('\\').join('/')] = await readFile(path, 'utf8');
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
  const result = await compilePlugin({ files: await sourceFiles(dir), entry: basename(entryPath) });
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
