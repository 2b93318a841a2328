import type { PipeTransform } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { z } from 'zod';
import { invalidField } from './invalid-field.js';

export type RequestPart = 'body' | 'query';

/** Top-level fields carried as bytes (an event's payload, a call's input): any character may be in them. */
const BYTES_FIELDS = new Set(['payload', 'input']);

/**
 * The path of the first key or string holding U+0000 (NUL), outside the bytes
 * fields: every other string is stored as text or JSON, where PostgreSQL cannot
 * keep it (and a statement shared by several requests would fail for all).
 * Walked with a stack, not recursion: a body may nest deeper than the call stack.
 */
function pathOfNul(value: unknown): string[] | null {
  const pending: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) return next.path;
    } else if (typeof next.value === 'object' && next.value !== null) {
      for (const [key, child] of Object.entries(next.value)) {
        const path = [...next.path, key];
        if (key.includes('\u0000')) return path;
        if (!(next.path.length === 0 && BYTES_FIELDS.has(key))) pending.push({ value: child, path });
      }
    }
  }
  return null;
}

/** Parses one part of a request with a zod schema; a failure names every bad field. */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly part: RequestPart,
  ) {}

  transform(value: unknown): z.output<Schema> {
    const nulAt = pathOfNul(value);
    if (nulAt !== null) {
      throw invalidField(this.part, nulAt.length === 0 ? this.part : nulAt.join('.'), 'must not contain the character U+0000 (NUL)');
    }
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
