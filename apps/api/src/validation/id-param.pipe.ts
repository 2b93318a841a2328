import type { PipeTransform } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A path id that cannot name anything is simply not found: the answer is the
 * same 404 whether the id is malformed, unknown or another tenant's.
 */
export class IdParamPipe implements PipeTransform<string, string> {
  constructor(private readonly resource: string) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw notFound(this.resource);
    return value.toLowerCase();
  }
}

export function notFound(resource: string): AppError {
  return new AppError(AppErrorCode.NotFound, `No ${resource} with this id.`);
}
