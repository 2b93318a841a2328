import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretBox } from '@airlock/execution';

export const SECRETS_KEYS_FILE = 'secrets.keys';

/**
 * The keys for binding secrets: AIRLOCK_SECRETS_KEYS when set; otherwise a key
 * generated on first start and kept (0600) in the data dir, for `npm start`.
 * Production sets the variable, so the keys live apart from the database.
 */
export async function resolveSecretBox(configured: string | undefined, dataDir: string): Promise<SecretBox> {
  if (configured !== undefined) return SecretBox.fromSetting(configured);
  const file = join(dataDir, SECRETS_KEYS_FILE);
  const stored = await readSetting(file);
  if (stored !== undefined && stored !== '') return SecretBox.fromSetting(stored);
  if (stored === undefined) {
    const setting = SecretBox.generateSetting();
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    try {
      await writeFile(file, `${setting}\n`, { mode: 0o600, flag: 'wx' });
      return SecretBox.fromSetting(setting);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  // Another process starting on this data dir made the file first (and may not have written it yet): its key is the
  // one both use.
  for (let tries = 0; tries < 40; tries++) {
    const written = await readSetting(file);
    if (written !== undefined && written !== '') return SecretBox.fromSetting(written);
    await new Promise((resolve) => setTimeout(resolve, 50)); // created, not written yet
  }
  throw new Error(`${file} was created by another process and left empty: delete it and start again.`);
}

/** The file's setting, or undefined when there is no file. */
function readSetting(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
}
