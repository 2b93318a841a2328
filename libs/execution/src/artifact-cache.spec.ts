import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTier } from '@airlock/sandbox';
import { ArtifactCache } from './artifact-cache.js';

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];

/** A module of `count` empty functions and an exported `run` returning 0: admitting it is work in proportion. */
function manyFunctions(count: number): Uint8Array {
  const types = [...leb(2), 0x60, 0, 0, 0x60, 0, 1, 0x7f];
  const functions = [...leb(count + 1), ...new Array<number>(count).fill(0), 1];
  const exports = [...leb(1), 3, ...Buffer.from('run'), 0, ...leb(count)];
  const code = [...leb(count + 1)];
  for (let i = 0; i < count; i++) code.push(2, 0, 0x0b);
  code.push(4, 0, 0x41, 0, 0x0b);
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, types), ...section(3, functions), ...section(7, exports), ...section(10, code)]);
}

describe('ArtifactCache', () => {
  it('admits off the event loop: timers and I/O go on while a large module is rewritten', async () => {
    const policy = await loadTier('standard');
    const cache = new ArtifactCache();
    let turns = 0;
    let admitted = false;
    const turn = () => {
      if (admitted) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const result = await cache.admit('many', () => Promise.resolve(manyFunctions(200_000)), policy);
    admitted = true;
    assert.ok(result.ok);
    assert.deepEqual(result.artifact.functions, ['run']);
    // Run on this thread, the rewrite would have let no turn happen until it was done.
    assert.ok(turns >= 10, `the event loop turned ${turns} times while the module was admitted`);
  });

  it('admits a module once per policy, however often and however many at once it is asked for', async () => {
    const policy = await loadTier('free');
    const cache = new ArtifactCache();
    let loads = 0;
    const load = () => {
      loads++;
      return Promise.resolve(manyFunctions(10));
    };
    const [first, second] = await Promise.all([cache.admit('ten', load, policy), cache.admit('ten', load, policy)]);
    assert.equal(first, second, 'asked twice at once: admitted once');
    assert.equal(await cache.admit('ten', load, policy), first, 'asked again: from the cache');
    assert.equal(loads, 1);
    const other = await cache.admit('ten', load, await loadTier('standard'));
    assert.notEqual(other, first, 'another policy is another admission');
  });

  it('caches nothing for a module whose bytes could not be loaded: the next ask loads them again', async () => {
    const policy = await loadTier('free');
    const cache = new ArtifactCache();
    await assert.rejects(cache.admit('gone', () => Promise.reject(new Error('the version no longer exists')), policy), /no longer exists/);
    const found = await cache.admit('gone', () => Promise.resolve(manyFunctions(1)), policy);
    assert.ok(found.ok, 'the same bytes, loaded for another version, are admitted');
  });

  it("does not fail a caller for another's bytes that could not be loaded: it loads its own", async () => {
    const policy = await loadTier('free');
    const cache = new ArtifactCache();
    // The first caller's version is deleted as its bytes are read; the second's, the same bytes, is not.
    const gone = cache.admit('shared', () => new Promise((_, reject) => setTimeout(() => reject(new Error('the version no longer exists')), 50)), policy);
    const kept = cache.admit('shared', () => Promise.resolve(manyFunctions(1)), policy);
    await assert.rejects(gone, /no longer exists/);
    const admitted = await kept;
    assert.ok(admitted.ok, 'the second caller got its admission');
  });

  it('keeps to its bound in bytes, letting the least recently used go first', async () => {
    const policy = await loadTier('free');
    const probe = await new ArtifactCache().admit('probe', () => Promise.resolve(manyFunctions(1000)), policy);
    assert.ok(probe.ok);
    // Room for two such artifacts, not three.
    const artifactBytes = probe.artifact.bytes.length;
    const cache = new ArtifactCache(100, Math.floor(artifactBytes * 2.5));
    const loaded: string[] = [];
    const load = (name: string) => () => {
      loaded.push(name);
      return Promise.resolve(manyFunctions(1000));
    };
    await cache.admit('a', load('a'), policy);
    await cache.admit('b', load('b'), policy);
    await cache.admit('a', load('a'), policy); // a is now the most recently used
    await cache.admit('c', load('c'), policy); // over the bound: b goes
    await cache.admit('a', load('a'), policy);
    await cache.admit('b', load('b'), policy);
    assert.deepEqual(loaded, ['a', 'b', 'c', 'b']);
  });
});
