import { AppErrorCode } from '@airlock/errors';

/** The one place where error codes meet HTTP statuses. */
export const ERROR_STATUS: Record<AppErrorCode, number> = {
  [AppErrorCode.ValidationFailed]: 400,
  [AppErrorCode.Unauthenticated]: 401,
  [AppErrorCode.Forbidden]: 403,
  [AppErrorCode.NotFound]: 404,
  [AppErrorCode.MethodNotAllowed]: 405,
  [AppErrorCode.Conflict]: 409,
  [AppErrorCode.ModuleRejected]: 422,
  [AppErrorCode.CompileFailed]: 422,
  [AppErrorCode.TestsFailed]: 409,
  [AppErrorCode.IdempotencyKeyReused]: 409,
  [AppErrorCode.QuotaExceeded]: 429,
  [AppErrorCode.LimitReached]: 409,
  [AppErrorCode.QuotaTooSmall]: 422,
  [AppErrorCode.PayloadTooLarge]: 413,
  [AppErrorCode.UnsupportedMediaType]: 415,
  [AppErrorCode.RequestTimeout]: 408,
  [AppErrorCode.NotReady]: 503,
  [AppErrorCode.Internal]: 500,
};
