import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, sealedFor } from './secret-box.js';

describe('SecretBox', () => {
  const oldKey = { id: 'old', key: randomBytes(32) };
  const newKey = { id: 'new', key: randomBytes(32) };
  const owner = sealedFor.bindingSecrets('tenant-a', 'binding-1');

  /** A value as the first sealed form wrote it: bound to its key id only. */
  function sealedAsV1(key: { id: string; key: Buffer }, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv);
    cipher.setAAD(Buffer.from(key.id));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', key.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  it('seals and opens, without the plaintext in the sealed form', () => {
    const box = new SecretBox([oldKey]);
    const sealed = box.seal('{"TOKEN":"hunter2"}', owner);
    assert.doesNotMatch(sealed, /hunter2/);
    assert.equal(box.open(sealed, owner), '{"TOKEN":"hunter2"}');
    assert.notEqual(box.seal('same', owner), box.seal('same', owner), 'a fresh IV every time');
  });

  it('opens a value only for the owner it was sealed for', () => {
    const box = new SecretBox([oldKey]);
    const sealed = box.seal('secret', owner);
    assert.throws(() => box.open(sealed, sealedFor.bindingSecrets('tenant-a', 'binding-2')), /authenticate/);
    assert.throws(() => box.open(sealed, sealedFor.bindingSecrets('tenant-b', 'binding-1')), /authenticate/);
    assert.throws(() => box.open(sealed, sealedFor.webhookSecret('tenant-a', 'binding-1')), /authenticate/);
    // Relabelled as the older form (bound to the key only), it does not open either.
    assert.throws(() => box.open(sealed.replace(/^v2:/, 'v1:'), owner), /authenticate/);
  });

  it('opens values sealed with an older key after rotation, and seals with the new one', () => {
    const sealedBefore = new SecretBox([oldKey]).seal('before', owner);
    const rotated = new SecretBox([newKey, oldKey]);
    assert.equal(rotated.open(sealedBefore, owner), 'before');
    assert.equal(SecretBox.keyIdOf(rotated.seal('after', owner)), 'new');
    assert.throws(() => new SecretBox([newKey]).open(sealedBefore, owner), /unknown key/);
  });

  it('reseals what an older key or the older form sealed, and leaves what is current', () => {
    const rotated = new SecretBox([newKey, oldKey]);
    const current = rotated.seal('now', owner);
    assert.equal(rotated.reseal(current, owner), null);
    const resealed = rotated.reseal(new SecretBox([oldKey]).seal('before', owner), owner)!;
    assert.ok(resealed.startsWith('v2:new:'), resealed);
    assert.equal(new SecretBox([newKey]).open(resealed, owner), 'before', 'opens without the old key');
    // The older form, bound to its key id only, still opens and is resealed bound to its owner.
    const legacy = sealedAsV1(oldKey, 'legacy');
    assert.equal(rotated.open(legacy, owner), 'legacy');
    const upgraded = new SecretBox([oldKey]).reseal(legacy, owner)!;
    assert.ok(upgraded.startsWith('v2:old:'), upgraded);
    assert.equal(new SecretBox([oldKey]).open(upgraded, owner), 'legacy');
    assert.throws(() => new SecretBox([oldKey]).open(upgraded, sealedFor.bindingSecrets('tenant-a', 'binding-2')));
  });

  it('refuses tampered values', () => {
    const box = new SecretBox([oldKey]);
    const parts = box.seal('secret', owner).split(':');
    parts[4] = Buffer.from('tampered').toString('base64');
    assert.throws(() => box.open(parts.join(':'), owner));
  });

  it('reads and generates the setting', () => {
    const setting = SecretBox.generateSetting();
    assert.match(setting, /^[A-Za-z0-9_-]+:[A-Za-z0-9+/]{43}=$/);
    const box = SecretBox.fromSetting(`${setting},${SecretBox.generateSetting()}`);
    assert.equal(box.open(box.seal('x', owner), owner), 'x');
    assert.throws(() => SecretBox.fromSetting(`${setting},${setting}`), /unique/);
  });
});
