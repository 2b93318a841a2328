import { createScanner, ScanError, SyntaxKind } from 'jsonc-parser';
import { jsonTextAsSent } from '../validation/json-as-sent.js';

/** An event's JSON payload as the text its plugins read: as it was sent (see jsonTextAsSent). */
export function payloadText(payload: unknown, sent: { rawBody?: Buffer | undefined; contentType?: string | undefined; namesRepeated?: boolean | undefined }): string {
  if (payload === undefined) return '';
  return jsonTextAsSent(payload, { path: ['payload'], bytesField: 'payloadBase64', rawBody: sent.rawBody, contentType: sent.contentType, namesRepeated: sent.namesRepeated });
}

/**
 * JSON text as its tokens, whitespace left out: numbers as written (a double
 * would make 9007199254740993 and ...992 one), strings by value (escapes
 * written either way are the same text), keys in their order. Null when the
 * text is not JSON throughout.
 */
function jsonTokens(text: string): string[] | null {
  const scanner = createScanner(text, true);
  const tokens: string[] = [];
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    if (scanner.getTokenError() !== ScanError.None || kind === SyntaxKind.Unknown || kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia) return null;
    tokens.push(`${kind}:${scanner.getTokenValue()}`);
  }
  return tokens;
}

/**
 * Whether a payload sent again (with the idempotency key of a recorded event)
 * is the one recorded: the same bytes, or the same JSON spaced otherwise, as
 * a client that serializes it again may send it. Anything a plugin would read
 * differently (a digit, a key's place) is another payload.
 */
export function samePayload(recorded: Uint8Array, sent: Uint8Array): boolean {
  if (Buffer.from(recorded).equals(sent)) return true;
  const before = jsonTokens(Buffer.from(recorded).toString('utf8'));
  const now = jsonTokens(Buffer.from(sent).toString('utf8'));
  return before !== null && now !== null && before.length === now.length && before.every((token, index) => token === now[index]);
}
