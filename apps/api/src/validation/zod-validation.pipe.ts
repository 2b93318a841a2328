import type { PipeTransform } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { z } from 'zod';
import { invalidField } from './invalid-field.js';

export type RequestPart = 'body' | 'query';

/** Top-level fields carried as bytes (an event's payload, a call's input): any character may be in them (as UTF-8, a lone surrogate becomes U+FFFD). */
const BYTES_FIELDS = new Set(['payload', 'input']);

/** How deep JSON may nest outside the bytes fields: deeper, code that recurses (serializing it again) would overflow its stack. */
const MAX_DEPTH = 64;

/** Why a string cannot be stored as text, or null when it can. */
function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain the character U+0000 (NUL)';
  // A UTF-16 surrogate without its pair: JSON lets a body carry one, but it is no character at all.
  if (!text.isWellFormed()) return 'must be well-formed Unicode (it holds a lone surrogate)';
  return null;
}

/**
 * The first key or string PostgreSQL cannot store as text or JSON (U+0000, a
 * lone surrogate), or the first value nested deeper than MAX_DEPTH, outside the
 * bytes fields, with why. Such a value would be a 500 (and a statement shared
 * by several requests would fail for all), or be silently altered, making two
 * different idempotency keys one.
 * Walked with a stack, not recursion: a body may nest deeper than the call stack.
 */
function firstUnstorable(value: unknown): { path: string[]; reason: string } | null {
  const pending: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value === 'string') {
      const reason = unstorable(next.value);
      if (reason !== null) return { path: next.path, reason };
    } else if (typeof next.value === 'object' && next.value !== null) {
      if (next.path.length >= MAX_DEPTH) return { path: next.path, reason: `nests deeper than ${MAX_DEPTH} levels` };
      for (const [key, child] of Object.entries(next.value)) {
        const path = [...next.path, key];
        const reason = unstorable(key);
        if (reason !== null) return { path, reason };
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
    const bad = firstUnstorable(value);
    if (bad !== null) throw invalidField(this.part, bad.path.length === 0 ? this.part : bad.path.join('.'), bad.reason);
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
