import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, digestsEqual, generateApiKey, parseApiKey, sha256Hex } from './credentials.js';

describe('API key credentials', () => {
  it('generates keys that parse back to their prefix and hashed secret', () => {
    const generated = generateApiKey();
    const parsed = parseApiKey(generated.key);
    assert.ok(parsed);
    assert.equal(parsed.prefix, generated.prefix);
    assert.equal(sha256Hex(parsed.secret), generated.secretHash);
    assert.ok(!generated.secretHash.includes(parsed.secret));
    assert.notEqual(generateApiKey().key, generated.key);
  });

  it('rejects anything not shaped like a key', () => {
    for (const token of ['', 'ak_', 'ak_abc_def', `ak_${'g'.repeat(16)}_${'0'.repeat(64)}`, `xk_${'0'.repeat(16)}_${'0'.repeat(64)}`]) {
      assert.equal(parseApiKey(token), null, token);
    }
  });

  it('compares digests exactly and refuses malformed ones', () => {
    const digest = sha256Hex('secret');
    assert.equal(digestsEqual(digest, sha256Hex('secret')), true);
    assert.equal(digestsEqual(digest, sha256Hex('Secret')), false);
    assert.equal(digestsEqual(digest, 'abc'), false);
  });

  it('reads bearer tokens only', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), null);
    assert.equal(bearerToken('Bearer a b'), null);
    assert.equal(bearerToken(undefined), null);
  });
});
