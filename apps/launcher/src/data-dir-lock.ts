import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/** Thrown when another process holds the data dir. */
export class DataDirInUseError extends Error {}

export const DATA_DIR_LOCK = 'airlock.lock';
/** A lock not refreshed for this long is taken to be a dead process's (one killed with -9). */
const STALE_MS = 10_000;
const lockOptions = { lockfilePath: '', stale: STALE_MS, update: STALE_MS / 4, realpath: false };

/**
 * Holds the data dir for this process while it runs. The embedded database and the private Redis keep their files
 * there, and a second process on the same files split them (each saw its own writes) and then lost one side's on
 * the next start; it also stopped the first one's Redis as a leftover. The lock (proper-lockfile: a directory
 * refreshed every few seconds) is taken over once it is stale, so a start after a `kill -9` waits at most that long.
 * `onLost` is told if the lock is taken from under this process (its refreshes stopped for longer than STALE_MS).
 * Returns the release.
 */
export async function lockDataDir(dataDir: string, onLost: (error: Error) => void): Promise<() => Promise<void>> {
  const options = { ...lockOptions, lockfilePath: join(dataDir, DATA_DIR_LOCK), onCompromised: onLost };
  try {
    return await lockfile.lock(dataDir, options);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ELOCKED') throw error;
  }
  console.log(`Waiting up to ${STALE_MS / 1000} s for ${dataDir}: another Airlock process holds it, or one that was killed did.`);
  try {
    return await lockfile.lock(dataDir, { ...options, retries: { retries: STALE_MS / 1000 + 2, factor: 1, minTimeout: 1000, maxTimeout: 1000 } });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ELOCKED') throw error;
    throw new DataDirInUseError(
      `${dataDir} is in use by another Airlock process (it holds ${options.lockfilePath}). Stop that one first, or give this one its own AIRLOCK_DATA_DIR.`,
    );
  }
}
