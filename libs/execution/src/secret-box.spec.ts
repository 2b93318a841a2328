import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const oldKey = { id: 'old', key: randomBytes(32) };
  const newKey = { id: 'new', key: randomBytes(32) };

  it('seals and opens, without the plaintext in the sealed form', () => {
    const box = new SecretBox([oldKey]);
    const sealed = box.seal('{"TOKEN":"hunter2"}');
    assert.doesNotMatch(sealed, /hunter2/);
    assert.equal(box.open(sealed), '{"TOKEN":"hunter2"}');
    assert.notEqual(box.seal('same'), box.seal('same'), 'a fresh IV every time');
  });

  it('opens values sealed with an older key after rotation, and seals with the new one', () => {
    const sealedBefore = new SecretBox([oldKey]).seal('before');
    const rotated = new SecretBox([newKey, oldKey]);
    assert.equal(rotated.open(sealedBefore), 'before');
    assert.equal(SecretBox.keyIdOf(rotated.seal('after')), 'new');
    assert.throws(() => new SecretBox([newKey]).open(sealedBefore), /unknown key/);
  });

  it('refuses tampered values', () => {
    const box = new SecretBox([oldKey]);
    const parts = box.seal('secret').split(':');
    parts[4] = Buffer.from('tampered').toString('base64');
    assert.throws(() => box.open(parts.join(':')));
  });

  it('reads and generates the setting', () => {
    const setting = SecretBox.generateSetting();
    assert.match(setting, /^[A-Za-z0-9_-]+:[A-Za-z0-9+/]{43}=$/);
    const box = SecretBox.fromSetting(`${setting},${SecretBox.generateSetting()}`);
    assert.equal(box.open(box.seal('x')), 'x');
    assert.throws(() => SecretBox.fromSetting(`${setting},${setting}`), /unique/);
  });
});
