import type { Request } from 'express';
import { visit } from 'jsonc-parser';
import { bodyCharset, bodyText } from './body-text.js';
import { repeatsNames } from './duplicate-keys.middleware.js';
import { invalidField } from './invalid-field.js';
import { MAX_BYTES_FIELD_DEPTH } from './zod-validation.pipe.js';

/** Where a JSON value was sent: where in the body it was, and the field that takes the same as bytes. */
export interface SentJson {
  /** Where the body holds the value: a top-level member (`['payload']`, `['inputJson']`) or deeper (a declared test's). */
  path: JsonPath;
  /** The field to send it in as base64 instead (named when it nests too deeply). */
  bytesField: string;
  rawBody: Buffer | undefined;
  contentType: string | undefined;
  /** The body names a member twice inside the value (see duplicateKeysMiddleware): parsing kept only the last. */
  namesRepeated?: boolean | undefined;
}

/** Where a value is in a JSON document: the member names and array indexes that lead to it (`['tests', 0, 'inputJson']`). */
export type JsonPath = readonly (string | number)[];

function samePath(path: JsonPath, other: JsonPath): boolean {
  return path.length === other.length && path.every((step, index) => step === other[index]);
}

/**
 * The text of the value at `path` in a JSON body, exactly as it was written
 * (the last one, as JSON.parse keeps), or null when there is none. Read by a
 * tokenizer's positions (jsonc-parser), not by parsing it again.
 */
function valueAsWritten(body: string, path: JsonPath): string | null {
  // Containers open around the tokenizer, which is also the length of the path of a value that begins there.
  let depth = 0;
  // Where the container at `path` began, while it is open, and its depth.
  let start = -1;
  let startDepth = -1;
  let written: string | null = null;
  const isTarget = (pathHere: () => (string | number)[]) => depth === path.length && samePath(pathHere(), path);
  const open = (offset: number, _length: number, _line: number, _column: number, pathHere: () => (string | number)[]) => {
    if (isTarget(pathHere)) {
      start = offset;
      startDepth = depth;
    }
    depth++;
  };
  const close = (offset: number, length: number) => {
    depth--;
    if (depth === startDepth) {
      written = body.slice(start, offset + length);
      startDepth = -1;
    }
  };
  visit(
    body,
    {
      onObjectBegin: open,
      onArrayBegin: open,
      onObjectEnd: close,
      onArrayEnd: close,
      onLiteralValue: (_value, offset, length, _line, _column, pathHere) => {
        if (isTarget(pathHere)) written = body.slice(offset, offset + length);
      },
    },
    { disallowComments: true },
  );
  return written;
}

/**
 * Whether the parsed value, written out again, may differ from what was sent
 * (`changed`): a number that may have lost digits (an integer past 2^53, a
 * fraction of more than 15 significant digits: a double keeps 15 exactly), or
 * an object with keys like array indexes, which JavaScript puts first in
 * ascending order whatever order they were sent in. Otherwise whether it holds
 * numbers at all (`numbers`), whose text alone can tell whether parsing changed
 * them, or none (`none`: nothing more to look at). Refuses a payload nested
 * deeper than MAX_BYTES_FIELD_DEPTH (so it looks at all of it).
 */
function mayHaveChanged(value: unknown, sent: SentJson): 'changed' | 'numbers' | 'none' {
  let changed = false;
  let numbers = false;
  // Values still to look at, and how deep each is (two arrays: no object made per value of every event).
  const pending: unknown[] = [value];
  const depths: number[] = [0];
  const tooDeep = () => invalidField('body', sent.path.join('.'), `nests more than ${MAX_BYTES_FIELD_DEPTH} deep; send it as ${sent.bytesField}`);
  while (pending.length > 0) {
    const next = pending.pop();
    const depth = depths.pop()!;
    if (typeof next === 'number') {
      if (Number.isInteger(next) ? !Number.isSafeInteger(next) : significantDigits(next) > 15) changed = true;
      numbers = true;
    } else if (Array.isArray(next)) {
      if (depth === MAX_BYTES_FIELD_DEPTH) throw tooDeep();
      for (const item of next) {
        pending.push(item);
        depths.push(depth + 1);
      }
    } else if (typeof next === 'object' && next !== null) {
      if (depth === MAX_BYTES_FIELD_DEPTH) throw tooDeep();
      for (const [key, item] of Object.entries(next)) {
        if (INDEX_LIKE_KEY.test(key)) changed = true;
        pending.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return changed ? 'changed' : numbers ? 'numbers' : 'none';
}

const INDEX_LIKE_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Numbers whose parsed value hides that it changed, found in the body's text:
 * one with an exponent (1e400 parses as Infinity, written `null`; 1e-400 as 0),
 * a run of 16 or more digits and dots (1.0000000000000001 parses as 1), a
 * negative zero (written `0`). Each stands alone, not inside a word, so ids
 * such as UUIDs (`123e4567-…`) do not count; text in strings that still
 * matches only has the payload read as written, which is exact anyway.
 */
const NUMBER_CHANGED_IN_PARSING = /(?<![\w.-])(?:-?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+|-?[0-9][0-9.]{15,}|-0(?:\.0*)?)(?![\w.-])/;

function significantDigits(value: number): number {
  const [mantissa] = Math.abs(value).toExponential().split('e');
  return mantissa!.replace('.', '').length;
}

/**
 * Bodies read again for their payload's digits are at most this large: reading costs several times JSON.parse, on
 * the event loop every tenant's requests share. A larger one whose value parsing changed is refused (see below).
 */
const MAX_BODY_READ_AGAIN = 1024 * 1024;

/**
 * A JSON value sent in a request (an event's payload, a call's input) as the
 * text its plugin reads. Written from the parsed value, whose numbers are
 * doubles and whose objects put index-like keys first: when it may differ
 * from what was sent (9007199254740993 parses as 9007199254740992, 1e400 as
 * Infinity), or names a member twice (parsing kept the last), it is taken
 * as it was written in the request instead (`sent.rawBody`, decoded as the
 * parser decoded it). In a body over 1 MiB, such a value is refused (400,
 * naming the bytes field to send it in): it is never handed over changed.
 */
export function jsonTextAsSent(value: unknown, sent: SentJson): string {
  const parsed = mayHaveChanged(value, sent);
  // The body's text is scanned only for a value with numbers: one of text alone (most events) costs nothing more.
  const { rawBody } = sent;
  if (rawBody === undefined) return JSON.stringify(value);
  // A UTF-8 body's numbers are found in its bytes as they are; another charset's, once decoded.
  const numbersIn = () => (bodyCharset(sent.contentType) === 'utf-8' ? rawBody.toString('latin1') : bodyText(rawBody, sent.contentType));
  const readAgain = parsed === 'changed' || sent.namesRepeated === true || (parsed === 'numbers' && NUMBER_CHANGED_IN_PARSING.test(numbersIn()));
  if (!readAgain) return JSON.stringify(value);
  if (rawBody.length > MAX_BODY_READ_AGAIN) {
    throw invalidField(
      'body',
      sent.path.join('.'),
      `holds what parsing JSON changes (a number a double cannot hold, a name given twice, keys like array indexes), in a body over ${MAX_BODY_READ_AGAIN / 1024 / 1024} MiB, where it is not read again as written; send it as ${sent.bytesField}`,
    );
  }
  return valueAsWritten(bodyText(rawBody, sent.contentType), sent.path) ?? JSON.stringify(value);
}

/** A call whose `inputJson` also comes as its text as sent (`inputJsonText`), which the plugin is handed. */
export function withInputAsSent<T extends { inputJson?: unknown }>(call: T, request: Request & { rawBody?: Buffer | undefined }): T & { inputJsonText?: string } {
  if (call.inputJson === undefined) return call;
  const sent = { path: ['inputJson'], bytesField: 'inputBase64', rawBody: request.rawBody, contentType: request.headers['content-type'], namesRepeated: repeatsNames(request) };
  return { ...call, inputJsonText: jsonTextAsSent(call.inputJson, sent) };
}

/**
 * A version's declared tests, each whose `inputJson` a plugin would read otherwise than it was sent (see
 * jsonTextAsSent) carrying that text too (`inputJsonText`), which is stored with the test and what the plugin reads.
 */
export function testsWithInputsAsSent<T extends { inputJson?: unknown }>(tests: T[], request: Request & { rawBody?: Buffer | undefined }): (T & { inputJsonText?: string })[] {
  // Names given twice in the body are in some test's input (anywhere else they are refused): each is read as written.
  const namesRepeated = repeatsNames(request);
  return tests.map((test, index) => {
    if (test.inputJson === undefined) return test;
    const sent = { path: ['tests', index, 'inputJson'], bytesField: `tests.${index}.inputBase64`, rawBody: request.rawBody, contentType: request.headers['content-type'], namesRepeated };
    const text = jsonTextAsSent(test.inputJson, sent);
    return text === JSON.stringify(test.inputJson) ? test : { ...test, inputJsonText: text };
  });
}
