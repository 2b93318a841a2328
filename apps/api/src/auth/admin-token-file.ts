import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateAdminToken, sha256Hex } from './credentials.js';

export const ADMIN_TOKEN_FILE = 'admin-token.sha256';

export interface ResolvedAdminToken {
  /** SHA-256 (hex) of the token the API accepts. */
  hash: string;
  /** Set only when a token was generated now: print it once, it is not kept. */
  generated?: string;
  /**
   * Writes a generated token's hash to the data dir: called once the start has succeeded, just before the token is
   * printed, so that a start that fails before (a port in use) leaves no hash of a token nobody was shown.
   */
  keep?: () => Promise<void>;
}

/**
 * The admin token is `AIRLOCK_ADMIN_TOKEN` when set. Otherwise one is generated
 * on first start and only its hash is written to the data dir (by `keep`); delete
 * that file to get a new token on the next start.
 */
export async function resolveAdminToken(configured: string | undefined, dataDir: string): Promise<ResolvedAdminToken> {
  if (configured !== undefined) return { hash: sha256Hex(configured) };
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const stored = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  if (stored !== undefined && /^[0-9a-f]{64}$/.test(stored)) return { hash: stored };
  if (stored !== undefined) throw new Error(`${file} is not a SHA-256 hex digest; delete it to generate a new admin token.`);
  const generated = generateAdminToken();
  const hash = sha256Hex(generated);
  const keep = async () => {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${hash}\n`, { mode: 0o600, flag: 'wx' });
  };
  return { hash, generated, keep };
}
