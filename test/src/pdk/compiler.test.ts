import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { compilePlugin } from '@airlock/plugin-pdk';

const CLI = fileURLToPath(new URL('../../../plugin-pdk/bin/airlock-pdk.js', import.meta.url));

describe('plugin compiler', () => {
  it('reports errors with file, line and column', async () => {
    const result = await compilePlugin({
      files: {
        'index.ts': 'import { Host } from "@airlock/plugin-pdk";\nimport { twice } from "./util";\nexport function run(): i32 {\n  return twice(Host.inputString());\n}\n',
        'util.ts': 'export function twice(x: i32): i32 {\n  return x * 2;\n}\n',
      },
    });
    assert.equal(result.ok, false);
    const error = result.diagnostics.find((d) => d.severity === 'error')!;
    assert.deepEqual(
      { file: error.file, line: error.line, column: error.column },
      { file: 'index.ts', line: 4, column: 16 },
    );
    assert.match(error.message, /not assignable to type 'i32'/);
  });

  it('reports a syntax error where it is', async () => {
    const result = await compilePlugin({ files: { 'index.ts': 'export function run(): i32 {\n  return (1 + ;\n}\n' } });
    assert.equal(result.ok, false);
    assert.equal(result.diagnostics[0]!.line, 2);
  });

  it('says a source nested too deeply for it is that, not that the compiler failed', async () => {
    // Deep parentheses overflow its parser; a long chain of operators, the compiler after it; so does a generic that
    // calls itself with a deeper type each time (f<T> calls f<Box<T>>), instantiated without end.
    const generic = 'class Box<T> { constructor(public value: T) {} }\nfunction f<T>(value: T, depth: i32): i32 { return depth == 0 ? 0 : f<Box<T>>(new Box<T>(value), depth - 1); }\n';
    for (const nested of [`${'('.repeat(20_000)}1${')'.repeat(20_000)}`, `1${'+1'.repeat(50_000)}`, 'f<i32>(1, 3)']) {
      const prelude = nested.startsWith('f<') ? generic : '';
      const result = await compilePlugin({ files: { 'index.ts': `${prelude}export function run(): i32 {\n  return ${nested};\n}\n` } });
      assert.equal(result.ok, false);
      assert.deepEqual(
        result.diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.message]),
        [['error', 'the source nests too deeply for the compiler (thousands of levels of parentheses, blocks, or operators in one chain, or a generic that instantiates itself with ever deeper types); split the deepest part up']],
        nested.slice(0, 10),
      );
    }
  });

  it('reads nothing but the plugin\'s files, the kit and its JSON library', async () => {
    const result = await compilePlugin({ files: { 'index.ts': 'import "../../../../../../etc/passwd";\nexport function run(): i32 { return 0; }\n' } });
    assert.equal(result.ok, false);
    assert.match(result.diagnostics[0]!.message, /not found/);
    assert.doesNotMatch(JSON.stringify(result.diagnostics), /root:/);
    const badName = await compilePlugin({ files: { '../escape.ts': 'x' }, entry: '../escape.ts' });
    assert.equal(badName.ok, false);
    assert.match(badName.diagnostics[0]!.message, /not an allowed file name/);
  });

  it('runs one compiler per core at a time, however many sources come at once, each within its own time limit', async () => {
    const compilers = async () => {
      let count = 0;
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        // This process's compilers only (other test files may be compiling meanwhile).
        const parent = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ')[1];
        const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (parent === String(process.pid) && command.includes('compiler-process.js')) count++;
      }
      return count;
    };
    let most = 0;
    let done = false;
    const watching = (async () => {
      while (!done) {
        most = Math.max(most, await compilers());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const source = { files: { 'index.ts': 'import { Host } from "@airlock/plugin-pdk";\nexport function run(): i32 { Host.outputString("hi"); return 0; }\n' } };
    const results = await Promise.all(Array.from({ length: availableParallelism() * 3 }, () => compilePlugin(source, { timeoutMs: 60_000 })));
    done = true;
    await watching;
    assert.ok(results.every((result) => result.ok), JSON.stringify(results.find((result) => !result.ok)?.diagnostics));
    assert.ok(most >= 1 && most <= availableParallelism(), `at most ${availableParallelism()} compilers at once, saw ${most}`);
  });

  it("runs one owner's compiles one at a time, so another owner's compile never waits behind a burst of them", async () => {
    const source = { files: { 'index.ts': 'import { Host } from "@airlock/plugin-pdk";\nexport function run(): i32 { Host.outputString("x"); return 0; }\n' } };
    const finished: string[] = [];
    const compile = (owner: string, name: string) =>
      compilePlugin(source, { owner, timeoutMs: 60_000 }).then((result) => {
        assert.ok(result.ok, name);
        finished.push(name);
      });
    // One owner's burst, as many as twice the compiler slots, then another owner's one compile.
    const burst = Array.from({ length: availableParallelism() * 2 }, (_, n) => compile('owner-a', `a${n + 1}`));
    await Promise.all([...burst, compile('owner-b', 'b')]);
    // In one line with the burst, b would have waited for all but the last slots' worth of it.
    assert.ok(finished.indexOf('b') < finished.indexOf('a2'), `finished in the order ${finished.join(', ')}`);
  });

  it('is bounded in memory, outside its heap too', async () => {
    // Three lines that reserve 2 GiB of static data: the compiler held gigabytes outside its heap for its whole time limit.
    const source = 'const reserved = memory.data(0x7ff00000);\nexport function run(): i32 { return <i32>reserved; }\n';
    const result = await compilePlugin({ files: { 'index.ts': source } });
    assert.deepEqual(result.diagnostics.map((d) => [d.severity, d.message]), [
      ['error', 'compilation used more than 1024 MiB of memory (a large memory.data or static array makes the compiler hold all of it)'],
    ]);
  });

  it('is bounded in time', async () => {
    const result = await compilePlugin({ files: { 'index.ts': 'export function run(): i32 { return 0; }\n' } }, { timeoutMs: 50 });
    assert.deepEqual(result.diagnostics.map((d) => d.message), ['compilation took longer than 50 ms']);
  });

  it('builds from the command line: airlock-pdk build <entry.ts> -o <out.wasm>, with the files the entry imports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-pdk-'));
    try {
      await mkdir(join(dir, 'lib'));
      await writeFile(join(dir, 'lib', 'words.ts'), 'export function hi(): string { return "hi"; }\n');
      await writeFile(join(dir, 'unrelated.ts'), 'this is not even AssemblyScript');
      // An import in a comment, of a file that is not there, is no import.
      await writeFile(join(dir, 'plugin.ts'), 'import { Host } from "@airlock/plugin-pdk";\nimport { hi } from "./lib/words";\n// import "./gone"\nexport function greet(): i32 { Host.outputString(hi()); return 0; }\n');
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'build', join(dir, 'plugin.ts'), '-o', join(dir, 'plugin.wasm')]);
      assert.match(stdout, /^wrote .*plugin\.wasm \(\d+ bytes\)/);
      assert.equal(WebAssembly.validate(await readFile(join(dir, 'plugin.wasm'))), true);

      await writeFile(join(dir, 'plugin.ts'), 'export function greet(): i32 { return "x"; }\n');
      await assert.rejects(promisify(execFile)(process.execPath, [CLI, 'build', join(dir, 'plugin.ts'), '-o', join(dir, 'bad.wasm')]), (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /plugin\.ts:1:\d+: error: /);
        return true;
      });
      // A real import of a missing file is the compiler's error, where it is written; a missing entry is one line.
      await writeFile(join(dir, 'plugin.ts'), 'import { gone } from "./gone";\nexport function greet(): i32 { return gone(); }\n');
      await assert.rejects(promisify(execFile)(process.execPath, [CLI, 'build', join(dir, 'plugin.ts'), '-o', join(dir, 'bad.wasm')]), (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /plugin\.ts:1:\d+: error: /);
        assert.doesNotMatch(error.stderr, /\n\s+at /, 'no stack trace');
        return true;
      });
      await assert.rejects(promisify(execFile)(process.execPath, [CLI, 'build', join(dir, 'missing.ts'), '-o', join(dir, 'bad.wasm')]), (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /^cannot read the plugin's source: ENOENT/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
