// Makes fuzz modules number <from> to <to> (exclusive) into <dir>, with
// binaryen's fuzzer (`wasm-opt -ttf`). wasm-opt is an Emscripten program that
// takes half a second to load; it is loaded once here, in a VM context with
// `noInitialRun`, and its main is called once per module (~50 ms each).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createContext, runInContext } from 'node:vm';

const [fromText, toText, dir, templatePath] = process.argv.slice(2) as [string, string, string, string];
const require = createRequire(import.meta.url);
const WASM_OPT = join(dirname(require.resolve('binaryen')), 'bin', 'wasm-opt');

/** Features WebAssembly in Node 20 accepts, for the fuzzer to use. */
const FEATURES = [
  '--enable-simd',
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-reference-types',
  '--enable-tail-call',
  '--enable-mutable-globals',
];

/** The random bytes binaryen turns into module number `index`: the same every run. */
function seedFor(index: number): Buffer {
  const blocks: Buffer[] = [];
  for (let block = 0; block < 64; block++) blocks.push(createHash('sha256').update(`airlock-fuzz-${index}-${block}`).digest());
  return Buffer.concat(blocks);
}

function loadWasmOpt(): Promise<(args: string[]) => void> {
  let ready: () => void = () => undefined;
  const initialized = new Promise<void>((resolve) => (ready = resolve));
  const context: Record<string, unknown> = {
    // Emscripten's options: do not run main on load, tell us when the runtime is up.
    Module: { noInitialRun: true, thisProgram: 'wasm-opt', printErr: () => undefined, onRuntimeInitialized: () => ready() },
    require,
    process,
    console,
    __filename: WASM_OPT,
    __dirname: dirname(WASM_OPT),
    module: {},
    Buffer,
    URL,
    TextDecoder,
    TextEncoder,
    WebAssembly,
    performance,
    setTimeout,
    clearTimeout,
  };
  context.globalThis = context;
  createContext(context);
  runInContext(readFileSync(WASM_OPT, 'utf8').replace(/^#!/, '//'), context, { filename: WASM_OPT });
  return initialized.then(() => context.callMain as (args: string[]) => void);
}

const callMain = await loadWasmOpt();
for (let index = Number(fromText); index < Number(toText); index++) {
  const path = join(dir, `${index}.wasm`);
  if (existsSync(path)) continue;
  const seedPath = `${path}.seed`;
  writeFileSync(seedPath, seedFor(index));
  callMain([seedPath, '-ttf', '-q', `--initial-fuzz=${templatePath}`, '--fuzz-preserve-imports-exports', ...FEATURES, '-o', `${path}.tmp`]);
  renameSync(`${path}.tmp`, path);
}
