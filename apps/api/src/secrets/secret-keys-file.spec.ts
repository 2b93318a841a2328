import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sealedFor, SecretBox } from '@airlock/execution';
import { resolveSecretBox, SECRETS_KEYS_FILE } from './secret-keys-file.js';

describe('resolveSecretBox', () => {
  it('keeps a key made on first start (0600), and two processes starting at once share one key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
    try {
      const [first, second] = await Promise.all([resolveSecretBox(undefined, dataDir), resolveSecretBox(undefined, dataDir)]);
      const sealed = first.seal('s3cret', sealedFor.webhookSecret('tenant', 'hook'));
      assert.equal(second.open(sealed, sealedFor.webhookSecret('tenant', 'hook')), 's3cret', 'what one seals the other opens');
      assert.equal((await stat(join(dataDir, SECRETS_KEYS_FILE))).mode & 0o777, 0o600);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('waits for a key file another process made and has not written yet, and takes its key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
    try {
      const file = join(dataDir, SECRETS_KEYS_FILE);
      await writeFile(file, '', { mode: 0o600 });
      const setting = SecretBox.generateSetting();
      setTimeout(() => void writeFile(file, `${setting}\n`), 200);
      const box = await resolveSecretBox(undefined, dataDir);
      const sealed = SecretBox.fromSetting(setting).seal('x', sealedFor.webhookSecret('t', 'w'));
      assert.equal(box.open(sealed, sealedFor.webhookSecret('t', 'w')), 'x');
      assert.equal((await readFile(file, 'utf8')).trim(), setting, 'its key, not a new one');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
