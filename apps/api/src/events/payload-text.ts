import { parse, stringify } from 'lossless-json';
import { invalidField } from '../validation/invalid-field.js';

/**
 * An event's JSON payload as the text its plugins read, its numbers written as
 * they were sent: the body parser's numbers are doubles, which would hand a
 * plugin 9007199254740992 for 9007199254740993 and 1.1 for 1.10. When the payload
 * holds more than a string, true, false or null, it is read again from the
 * request's bytes (`rawBody`) by a parser that keeps each number's text.
 */
export function payloadText(payload: unknown, rawBody: Buffer | undefined): string {
  if (payload === undefined) return '';
  const plain = typeof payload === 'string' || typeof payload === 'boolean' || payload === null;
  try {
    if (plain || rawBody === undefined) return JSON.stringify(payload);
    return stringify((parse(rawBody.toString('utf8')) as { payload: unknown }).payload) ?? '';
  } catch (error) {
    // Both recurse: a payload nested some thousands deep overflows the stack.
    if (error instanceof RangeError) throw invalidField('body', 'payload', 'nests too deeply to serialize; send it as payloadBase64');
    // The body parser kept the last of a repeated key; which one was meant is not known.
    if (error instanceof SyntaxError && /Duplicate key/.test(error.message)) throw invalidField('body', 'payload', `cannot be read one way only: ${error.message}`);
    throw error;
  }
}
