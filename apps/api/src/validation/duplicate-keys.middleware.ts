import type { NextFunction, Request, Response } from 'express';
import { type JSONPath, visit } from 'jsonc-parser';
import { bodyText } from './body-text.js';
import { invalidField } from './invalid-field.js';
import { BYTES_FIELDS, MAX_BYTES_FIELD_DEPTH } from './zod-validation.pipe.js';

/**
 * Every string of a JSON text in turn, and whether a colon follows it (a member's name). JSON has quotes nowhere
 * but in strings, so matching them from the start, one after another, never falls out of step.
 */
const JSON_STRING = /"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?/g;

/** Members' names written in a JSON text. */
function namesWritten(text: string): number {
  let names = 0;
  for (const match of text.matchAll(JSON_STRING)) if (match[1] !== undefined) names++;
  return names;
}

/** Members of every object in a parsed value (which keeps one of each name), and how deep it nests (an object: 1). */
function namesKept(value: unknown): { names: number; depth: number } {
  let names = 0;
  let deepest = 0;
  // Objects and arrays still to look at, and how deep each is (two arrays: no object made per value).
  const pending: unknown[] = [value];
  const depths: number[] = [1];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const depth = depths.pop()!;
    if (depth > deepest) deepest = depth;
    if (Array.isArray(next)) {
      for (const item of next) {
        if (typeof item !== 'object' || item === null) continue;
        pending.push(item);
        depths.push(depth + 1);
      }
    } else if (typeof next === 'object' && next !== null) {
      for (const key in next) {
        names++;
        const item = (next as Record<string, unknown>)[key];
        if (typeof item !== 'object' || item === null) continue;
        pending.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return { names, depth: deepest };
}

/**
 * The deepest body read again for names given twice. The reader (jsonc-parser) recurses, and overflows the stack
 * some thousands deep; no body deeper than this is taken anyway: the deepest a field may nest is a top-level bytes
 * field's (MAX_BYTES_FIELD_DEPTH, one level below the body), and validation refuses deeper, naming the value.
 */
const MAX_DEPTH_READ_AGAIN = MAX_BYTES_FIELD_DEPTH + 1;

/**
 * Whether a value is carried to a plugin as it was written, names given twice and all: an event's payload, a call's
 * input (the top-level bytes fields), a declared test's `inputJson` (`tests.N.inputJson`).
 */
function carriedAsWritten(path: JSONPath): boolean {
  if (path.length === 1) return BYTES_FIELDS.has(String(path[0]));
  return path.length === 3 && path[0] === 'tests' && typeof path[1] === 'number' && path[2] === 'inputJson';
}

/** The path of the first member named twice in one object, outside what is carried as written, or null. */
function firstNamedTwice(text: string): string | null {
  // The names of each object open around the reader; null for one not looked into (its end is still reported).
  const names: (Set<string> | null)[] = [];
  let found: string | null = null;
  const lookInto = (pathHere: () => JSONPath) => found === null && !carriedAsWritten(pathHere());
  visit(
    text,
    {
      onObjectBegin: (_offset, _length, _line, _column, pathHere) => {
        const looked = lookInto(pathHere);
        names.push(looked ? new Set() : null);
        return looked;
      },
      onObjectEnd: () => {
        names.pop();
      },
      onArrayBegin: (_offset, _length, _line, _column, pathHere) => lookInto(pathHere),
      // Without an end of its own, an array not looked into would leave everything after it unread.
      onArrayEnd: () => undefined,
      onObjectProperty: (name, _offset, _length, _line, _column, pathHere) => {
        const here = names.at(-1);
        if (found !== null || here === undefined || here === null) return;
        if (here.has(name)) found = [...pathHere(), name].join('.');
        here.add(name);
      },
    },
    { disallowComments: true },
  );
  return found;
}

/** Requests whose values carried as written (a payload, an input) name a member twice: read as written (see jsonTextAsSent). */
const namesRepeated = new WeakSet<Request>();

/** Whether the request's body names a member twice inside an event's payload, a call's input or a declared test's. */
export function repeatsNames(request: Request): boolean {
  return namesRepeated.has(request);
}

/**
 * A JSON body whose object names a member twice is a 400 naming it: JSON.parse
 * keeps the last without a word, so `{"overrides": {...}, "overrides": {}}`
 * would set what the caller did not mean. Names given twice inside an event's
 * payload or a call's input (the bytes fields) are the plugin's to read: such
 * a request is marked (repeatsNames), and its plugin reads the value as it was
 * written. A body is read again only when the names written in it outnumber
 * those parsed; for most bodies counting them is all it costs.
 */
export function duplicateKeysMiddleware(request: Request, _response: Response, next: NextFunction): void {
  const rawBody = (request as Request & { rawBody?: Buffer }).rawBody;
  if (rawBody === undefined || typeof request.body !== 'object' || request.body === null) {
    next();
    return;
  }
  const text = bodyText(rawBody, request.headers['content-type']);
  const kept = namesKept(request.body);
  if (namesWritten(text) === kept.names || kept.depth > MAX_DEPTH_READ_AGAIN) {
    next();
    return;
  }
  const namedTwice = firstNamedTwice(text);
  if (namedTwice !== null) {
    next(invalidField('body', namedTwice, 'is given twice; give it once'));
    return;
  }
  namesRepeated.add(request);
  next();
}
