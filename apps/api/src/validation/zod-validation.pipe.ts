import type { PipeTransform } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { z } from 'zod';
import { invalidField } from './invalid-field.js';

export type RequestPart = 'body' | 'query';

/**
 * Top-level fields carried as bytes (an event's payload, a call's input, an ad-hoc test call's JSON input), never
 * stored as text: any character may be in them (as UTF-8, a lone surrogate becomes U+FFFD), and they nest as deep as
 * their own limit says (see jsonTextAsSent).
 */
export const BYTES_FIELDS = new Set(['payload', 'input', 'inputJson']);

/**
 * How deep a JSON value carried as bytes (an event's payload, a call's input) may nest (a top-level array or object
 * is 1 deep). Written out again, one some thousands deep overflows the stack; a limit that holds whatever else it
 * holds is one a client can know.
 */
export const MAX_BYTES_FIELD_DEPTH = 1000;

/** How deep JSON may nest outside the bytes fields: deeper, code that recurses (serializing it again) would overflow its stack. */
const MAX_DEPTH = 64;

/** Why a string cannot be stored as text, or null when it can. */
function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain the character U+0000 (NUL)';
  // A UTF-16 surrogate without its pair: JSON lets a body carry one, but it is no character at all.
  if (!text.isWellFormed()) return 'must be well-formed Unicode (it holds a lone surrogate)';
  return null;
}

/** A value still to look at, and how it was reached (its path is built only for the one reported). */
interface Pending {
  value: unknown;
  key: string;
  parent: Pending | null;
  depth: number;
}

function pathOf(entry: Pending): string[] {
  const path: string[] = [];
  for (let at: Pending | null = entry; at !== null && at.parent !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * The first key or string PostgreSQL cannot store as text or JSON (U+0000, a
 * lone surrogate), the first key named `__proto__` (which validation would drop
 * without a word), or the first value nested deeper than MAX_DEPTH, outside the
 * bytes fields, with why. Such a value would be a 500 (and a statement shared
 * by several requests would fail for all), or be silently altered, making two
 * different idempotency keys one.
 * Walked with a stack, not recursion: a body may nest deeper than the call stack.
 * Only objects are stacked, and paths are built for the one reported: a body of
 * millions of small values is walked in one pass that allocates next to nothing.
 */
function firstUnstorable(value: unknown): { path: string[]; reason: string } | null {
  if (typeof value === 'string') {
    const reason = unstorable(value);
    return reason === null ? null : { path: [], reason };
  }
  const pending: Pending[] = typeof value === 'object' && value !== null ? [{ value, key: '', parent: null, depth: 0 }] : [];
  const child = (parent: Pending, key: string, item: unknown): { path: string[]; reason: string } | null => {
    if (typeof item === 'string') {
      const reason = unstorable(item);
      if (reason !== null) return { path: [...pathOf(parent), key], reason };
    } else if (typeof item === 'object' && item !== null) {
      pending.push({ value: item, key, parent, depth: parent.depth + 1 });
    }
    return null;
  };
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.depth >= MAX_DEPTH) return { path: pathOf(next), reason: `nests deeper than ${MAX_DEPTH} levels` };
    if (Array.isArray(next.value)) {
      // Indices are always storable keys.
      const items: unknown[] = next.value;
      for (let index = 0; index < items.length; index++) {
        const bad = child(next, String(index), items[index]);
        if (bad !== null) return bad;
      }
      continue;
    }
    const object = next.value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const reason = key === '__proto__' ? 'is not a name this API takes (JavaScript would read it as no entry at all)' : unstorable(key);
      if (reason !== null) return { path: [...pathOf(next), key], reason };
      if (next.depth === 0 && BYTES_FIELDS.has(key)) continue;
      const bad = child(next, key, object[key]);
      if (bad !== null) return bad;
    }
  }
  return null;
}

interface FieldIssue {
  field: string;
  message: string;
}

/** A zod message without its generic opening ("Invalid input: expected int" says "expected int"). */
function plainMessage(message: string): string {
  return message.replace(/^Invalid (input|option): /, '');
}

/**
 * Whether an issue of a union's form says the value is another form altogether: a key the form does not know, or
 * one it needs that is missing (zod says "received undefined"), at the form's own level.
 */
function isOtherForm(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'unrecognized_keys') return issue.path.length === 0;
  return issue.code === 'invalid_type' && issue.path.length === 1 && /received undefined$/.test(issue.message);
}

/** The forms of a union a value comes closest to: fewest signs of being another form, then fewest problems. */
function closestForms(branches: z.core.$ZodIssue[][]): z.core.$ZodIssue[][] {
  const rank = (branch: z.core.$ZodIssue[]) => branch.filter(isOtherForm).length * 1_000_000 + branch.length;
  const best = Math.min(...branches.map(rank));
  return branches.filter((branch) => rank(branch) === best);
}

/**
 * The field problems of one zod issue under `at` (the path of the value the
 * issue's schema was given). A value that fits none of a union's forms gets
 * zod's bare "Invalid input"; it is told instead what was wrong with the form
 * it came closest to (the one with fewest problems), or, when forms tie,
 * what each expects: `language: expected "assemblyscript"`, not "Invalid input".
 */
function fieldIssues(issue: z.core.$ZodIssue, at: string[], part: RequestPart): FieldIssue[] {
  const path = [...at, ...issue.path.map(String)];
  const field = (keys: string[]) => (keys.length === 0 ? part : keys.join('.'));
  // An unknown key is reported once per key, under its own name.
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: field([...path, key]), message: 'is not a known field' }));
  // A bad key of a record is reported under its own name, with why (not zod's "Invalid key in record").
  if (issue.code === 'invalid_key') return issue.issues.map((inner) => ({ field: field(path), message: inner.message }));
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // The form meant is the one whose fields the value has: fewest keys it does not know or needs and lacks, then
    // fewest problems. A value with none of any form's fields is told every form.
    const closest = closestForms(issue.errors);
    if (closest.length === 1 && !closest[0]!.every(isOtherForm)) return closest[0]!.flatMap((inner) => fieldIssues(inner, path, part));
    const told = closest.length === 1 ? issue.errors : closest;
    const forms = told.flatMap((branch) => branch.flatMap((inner) => fieldIssues(inner, [], part).map((found) => plainMessage(found.message))));
    return [{ field: field(path), message: `matches none of its forms: ${[...new Set(forms)].join('; or ')}` }];
  }
  return [{ field: field(path), message: issue.message }];
}

/** At most this many problems are listed in a 400: a body of a million bad fields gets a short answer. */
const MAX_LISTED_ISSUES = 20;

/** Parses one part of a request with a zod schema; a failure names every bad field. */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly part: RequestPart,
  ) {}

  transform(value: unknown): z.output<Schema> {
    // Raw bytes reach a JSON route only by mistake (jsonBodiesMiddleware refuses them first): never walked byte by byte.
    if (Buffer.isBuffer(value)) throw new AppError(AppErrorCode.UnsupportedMediaType, 'This route takes JSON: send it with Content-Type: application/json.');
    // A query parameter given twice arrives as a list: said so for every parameter alike, not as what its type expects.
    if (this.part === 'query' && typeof value === 'object' && value !== null) {
      // One the route does not take at all is told that instead (by the schema).
      const known = 'shape' in this.schema ? (this.schema.shape as Record<string, unknown>) : null;
      const repeated = Object.entries(value).find(([key, given]) => Array.isArray(given) && (known === null || Object.hasOwn(known, key)));
      if (repeated !== undefined) throw invalidField('query', repeated[0], 'must be given once');
    }
    const bad = firstUnstorable(value);
    if (bad !== null) throw invalidField(this.part, bad.path.length === 0 ? this.part : bad.path.join('.'), bad.reason);
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.flatMap((issue) => fieldIssues(issue, [], this.part));
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    const more = issues.length > listed.length ? ` (and ${issues.length - listed.length} more)` : '';
    throw new AppError(
      AppErrorCode.ValidationFailed,
      `Invalid request ${this.part}: ${listed.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}${more}`,
      { details: { issues: listed, ...(more === '' ? {} : { unlisted: issues.length - listed.length }) } },
    );
  }
}
