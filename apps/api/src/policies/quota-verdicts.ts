import { AppError, AppErrorCode } from '@airlock/errors';
import type { QuotaVerdict } from '@airlock/queue';

/**
 * Asks the quota gate; a refusal is a 429 naming the limit (with when to
 * retry), or a 422 for a limit of 0, and an unreachable gate a 503, before
 * anything is recorded or run.
 * Returns the tenant's place in line (`inFlightBefore`).
 */
export async function passQuotaGate(ask: () => Promise<QuotaVerdict>): Promise<number> {
  let verdict;
  try {
    verdict = await ask();
  } catch (error) {
    throw new AppError(AppErrorCode.NotReady, 'The quota store (Redis) is unavailable; nothing was recorded. Retry later.', { cause: error });
  }
  // A limit of 0 admits nothing, ever: a 429 would have the caller retry forever.
  if (!verdict.ok && verdict.max === 0) {
    throw new AppError(AppErrorCode.QuotaTooSmall, `The tenant's ${verdict.limit} quota is 0: it admits no request until an admin raises it.`, {
      details: { limit: verdict.limit, max: 0 },
    });
  }
  if (!verdict.ok) {
    throw new AppError(AppErrorCode.QuotaExceeded, `The tenant's ${verdict.limit} quota (${verdict.max}) would be exceeded; retry in ${verdict.retryAfterSeconds} s.`, {
      details: { limit: verdict.limit, max: verdict.max, retryAfterSeconds: verdict.retryAfterSeconds },
    });
  }
  return verdict.inFlightBefore;
}
