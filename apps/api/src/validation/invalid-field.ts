import { AppError, AppErrorCode } from '@airlock/errors';

/** The 400 for one bad field, worded and shaped as the validation pipe words and shapes its own. */
export function invalidField(part: 'body' | 'query', field: string, message: string): AppError {
  return new AppError(AppErrorCode.ValidationFailed, `Invalid request ${part}: ${field}: ${message}`, { details: { issues: [{ field, message }] } });
}
