import { parse as parseContentType } from 'content-type';
import { visit } from 'jsonc-parser';
import { invalidField } from '../validation/invalid-field.js';

/**
 * The text of the top-level `payload` member of a JSON body, exactly as it was
 * written (the last one, as JSON.parse keeps), or null when there is none.
 * Read by a tokenizer's positions (jsonc-parser), not by parsing it again.
 */
function payloadAsWritten(body: string): string | null {
  let depth = 0;
  let inPayload = false;
  let start = -1;
  let written: string | null = null;
  const open = (offset: number) => {
    if (inPayload && depth === 1) start = offset;
    depth++;
  };
  const close = (offset: number, length: number) => {
    depth--;
    if (inPayload && depth === 1) {
      written = body.slice(start, offset + length);
      inPayload = false;
    }
  };
  visit(
    body,
    {
      onObjectBegin: open,
      onArrayBegin: open,
      onObjectEnd: close,
      onArrayEnd: close,
      onObjectProperty: (name) => {
        if (depth === 1) inPayload = name === 'payload';
      },
      onLiteralValue: (_value, offset, length) => {
        if (inPayload && depth === 1) {
          written = body.slice(offset, offset + length);
          inPayload = false;
        }
      },
    },
    { disallowComments: true },
  );
  return written;
}

/**
 * The body as UTF-8 text (a byte-order mark dropped), or null when it says it
 * is in another charset: body-parser reads those with its own rules (it guesses
 * UTF-16's byte order), which a second reading here must not contradict.
 */
function utf8Body(rawBody: Buffer, contentType: string | undefined): string | null {
  let charset: string | undefined;
  try {
    charset = contentType === undefined ? undefined : parseContentType(contentType).parameters.charset?.toLowerCase();
  } catch {
    return null;
  }
  return charset === undefined || charset === 'utf-8' || charset === 'utf8' ? new TextDecoder('utf-8').decode(rawBody) : null;
}

/**
 * Whether a number of the parsed payload may not be the one sent: an integer
 * past 2^53, or a fraction of more than 15 significant digits (a double keeps
 * 15 exactly). Other numbers' values are exact as parsed.
 */
function mayHaveLostDigits(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'number') {
      if (Number.isInteger(next) ? !Number.isSafeInteger(next) : significantDigits(next) > 15) return true;
    } else if (typeof next === 'object' && next !== null) {
      for (const item of Array.isArray(next) ? next : Object.values(next)) pending.push(item);
    }
  }
  return false;
}

function significantDigits(value: number): number {
  const [mantissa] = Math.abs(value).toExponential().split('e');
  return mantissa!.replace('.', '').length;
}

/** Bodies read again for their payload's digits are at most this large: reading costs several times JSON.parse. */
const MAX_BODY_READ_AGAIN = 1024 * 1024;

/**
 * An event's JSON payload as the text its plugins read. Written from the
 * parsed value, whose numbers are doubles: when one of them may have lost
 * digits (9007199254740993 parses as 9007199254740992), the payload is taken
 * as it was written in the request instead (`rawBody`, UTF-8, up to 1 MiB).
 */
export function payloadText(payload: unknown, rawBody: Buffer | undefined, contentType: string | undefined): string {
  if (payload === undefined) return '';
  try {
    const body = rawBody !== undefined && rawBody.length <= MAX_BODY_READ_AGAIN && mayHaveLostDigits(payload) ? utf8Body(rawBody, contentType) : null;
    return (body === null ? null : payloadAsWritten(body)) ?? JSON.stringify(payload);
  } catch (error) {
    // Serializing recurses: a payload nested some thousands deep overflows the stack.
    if (error instanceof RangeError) throw invalidField('body', 'payload', 'nests too deeply to serialize; send it as payloadBase64');
    throw error;
  }
}
