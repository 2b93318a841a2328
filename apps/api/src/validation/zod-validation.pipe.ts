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
    const issues = parsed.error.issues.flatMap((issue) => {
      const at = issue.path.map(String);
      // An unknown key is reported once per key, under its own name.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'is not a known field' }));
      }
      return [{ field: at.length === 0 ? this.part : at.join('.'), message: issue.message }];
    });
    throw new AppError(
      AppErrorCode.ValidationFailed,
      `Invalid request ${this.part}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
}
