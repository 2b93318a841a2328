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

/** The body as text, in the charset it says it is in (a byte-order mark dropped); null for one this cannot read. */
function bodyText(rawBody: Buffer, contentType: string | undefined): string | null {
  try {
    const charset = contentType === undefined ? undefined : parseContentType(contentType).parameters.charset;
    return new TextDecoder(charset ?? 'utf-8').decode(rawBody);
  } catch {
    return null;
  }
}

/**
 * An event's JSON payload as the text its plugins read: as it was written in
 * the request (`rawBody`, its `Content-Type` saying how to read it), so a
 * number reaches the plugin with every digit sent; the body parser's numbers
 * are doubles, which would hand it 9007199254740992 for 9007199254740993. A
 * string, true, false or null, or a body this cannot read again, is written
 * from the parsed value.
 */
export function payloadText(payload: unknown, rawBody: Buffer | undefined, contentType: string | undefined): string {
  if (payload === undefined) return '';
  const plain = typeof payload === 'string' || typeof payload === 'boolean' || payload === null;
  const body = plain || rawBody === undefined ? null : bodyText(rawBody, contentType);
  try {
    return (body === null ? null : payloadAsWritten(body)) ?? JSON.stringify(payload);
  } catch (error) {
    // Serializing recurses: a payload nested some thousands deep overflows the stack.
    if (error instanceof RangeError) throw invalidField('body', 'payload', 'nests too deeply to serialize; send it as payloadBase64');
    throw error;
  }
}
