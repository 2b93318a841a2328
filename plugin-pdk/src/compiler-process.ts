// Compiles one plugin and exits: started by compilePlugin in a child process
// (bounded heap, killed past its time limit, empty environment). Reads the
// PluginSource as JSON on stdin, writes the CompileResult as JSON on stdout.
// The compiler reads only the author's files, the kit and its JSON library:
// any other path is "not found", so a source cannot pull in files of this machine.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { type CompileDiagnostic, NESTS_TOO_DEEPLY, type PluginSource } from './compile-protocol.js';

const require = createRequire(import.meta.url);
/** Packages a plugin may import, and the directory asc reads each from. */
const PACKAGES: Record<string, string> = {
  '@airlock/plugin-pdk': fileURLToPath(new URL('../assembly/', import.meta.url)),
  'assemblyscript-json': dirname(require.resolve('assemblyscript-json/package.json')),
};
const KIT_IMPORT = /from\s+["']@airlock\/plugin-pdk["']/;
const OUTPUT = 'plugin.wasm';
const SEVERITY: Record<number, CompileDiagnostic['severity']> = { 0: 'info', 1: 'info', 2: 'warning', 3: 'error' };

function readPackageFile(path: string): string | null {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1) return null;
  const rest = path.slice(at + 'node_modules/'.length);
  for (const [name, root] of Object.entries(PACKAGES)) {
    if (!rest.startsWith(`${name}/`)) continue;
    const inside = posix.normalize(rest.slice(name.length + 1));
    if (inside.startsWith('..') || !inside.endsWith('.ts')) return null;
    try {
      return readFileSync(join(root, inside), 'utf8');
    } catch {
      return null;
    }
  }
  return null;
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const source = JSON.parse(readFileSync(0, 'utf8')) as Required<PluginSource>;
const diagnostics: CompileDiagnostic[] = [];
let wasm: Uint8Array | null = null;
/** What stopped the compiler itself, said as a diagnostic of the source. */
function compilerFailure(error: unknown): { error: Error } {
  // An overflow while parsing ends here; one while compiling goes to the compiler's own crash handler, which exits
  // (compilePlugin reads that one from what it prints).
  const message =
    error instanceof RangeError && /call stack/i.test(error.message) ? NESTS_TOO_DEEPLY : `the compiler failed: ${error instanceof Error ? error.message : String(error)}`;
  return { error: new Error(message) };
}
const result = await asc.main(
  [
    source.entry,
    '--outFile', OUTPUT,
    '-O3',
    '--runtime', 'incremental',
    // With the kit, an abort becomes the call's error message; without it, a plain trap.
    '--use', Object.values(source.files).some((text) => KIT_IMPORT.test(text)) ? 'abort=~lib/@airlock/plugin-pdk/index/airlockAbort' : 'abort=',
    '--noColors',
  ],
  {
    readFile: (name: string) => source.files[posix.normalize(name)] ?? readPackageFile(name),
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name === OUTPUT && typeof contents !== 'string') wasm = contents;
    },
    listFiles: () => [],
    reportDiagnostic: (diagnostic) => {
      const range = diagnostic.range;
      const path = range?.source.normalizedPath;
      const text = path === undefined ? undefined : (source.files[path] ?? readPackageFile(path.replace(/^~lib\//, 'node_modules/')) ?? undefined);
      const where = range === null || text === undefined ? { line: 0, column: 0 } : position(text, range.start);
      diagnostics.push({
        severity: SEVERITY[diagnostic.category] ?? 'error',
        file: range === null ? '' : range.source.normalizedPath.replace(/^~lib\//, 'node_modules/'),
        ...where,
        message: diagnostic.message,
        code: diagnostic.code,
      });
    },
  },
).catch(compilerFailure);
const ok = result.error === null && wasm !== null;
if (!ok && !diagnostics.some((d) => d.severity === 'error')) {
  diagnostics.push({ severity: 'error', file: '', line: 0, column: 0, message: result.error?.message ?? 'the compiler produced no module', code: 0 });
}
process.stdout.write(JSON.stringify(ok ? { ok, wasm: Buffer.from(wasm!).toString('base64'), diagnostics } : { ok, diagnostics }));
