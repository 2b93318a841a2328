/** An error answer of Airlock: `{"error": {code, message, details?}, requestId}`, or no answer at all. */
export class AirlockError extends Error {
  override readonly name = 'AirlockError';

  constructor(
    /** The HTTP status; 0 when no answer came (network failure, timeout). */
    readonly status: number,
    /** Machine-readable: `validation_failed`, `quota_exceeded`, `limit_reached`, `not_found`, `not_ready`, ... (`network_error`, `timeout` without an answer). */
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The id Airlock logged the request under (`X-Request-Id`), for support. */
    readonly requestId?: string,
    /** From `Retry-After` on 429 and 503: how long to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A webhook delivery that did not verify: a wrong signature, an old timestamp, a missing header. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}
