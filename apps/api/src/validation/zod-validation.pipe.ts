import type { PipeTransform } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { z } from 'zod';

export type RequestPart = 'body' | 'query';

/** Parses one part of a request with a zod schema; a failure names every bad field. */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly part: RequestPart,
  ) {}

  transform(value: unknown): z.output<Schema> {
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((issue) => ({
      field: issue.path.length === 0 ? this.part : issue.path.join('.'),
      message: issue.message,
    }));
    throw new AppError(
      AppErrorCode.ValidationFailed,
      `Invalid request ${this.part}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
}
