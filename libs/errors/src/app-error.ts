/**
 * Every failure Airlock reports to a caller has one of these codes. The HTTP
 * status for each lives in one table in the API (`error-status.ts`), so domain
 * code never speaks HTTP.
 */
export enum AppErrorCode {
  ValidationFailed = 'validation_failed',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  MethodNotAllowed = 'method_not_allowed',
  Conflict = 'conflict',
  /** Admission refused the module (size, structure, memory, imports). */
  ModuleRejected = 'module_rejected',
  /** The plugin's source did not compile; details carry the diagnostics. */
  CompileFailed = 'compile_failed',
  /** A version's declared tests failed, so it cannot be published. */
  TestsFailed = 'tests_failed',
  /** An idempotency key sent again with another event than the one it recorded. */
  IdempotencyKeyReused = 'idempotency_key_reused',
  /** A tenant quota would be exceeded; details name the limit. */
  QuotaExceeded = 'quota_exceeded',
  /**
   * The tenant holds as many of something as it may (plugins, versions of a plugin, bindings, webhooks): waiting
   * cannot help (unlike quota_exceeded); deleting one, or an admin raising the limit, does. Details name the limit.
   */
  LimitReached = 'limit_reached',
  /** The request alone needs more than a tenant quota allows at all: retrying cannot help. */
  QuotaTooSmall = 'quota_too_small',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  RequestTimeout = 'request_timeout',
  NotReady = 'not_ready',
  Internal = 'internal_error',
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Machine-readable specifics safe to show the caller (e.g. which fields failed). */
  details?: unknown;
}

/** The one error family of Airlock's domain code. */
export class AppError extends Error {
  readonly details: unknown;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.details = options.details;
  }
}
