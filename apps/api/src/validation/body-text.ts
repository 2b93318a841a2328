import { parse as parseContentType } from 'content-type';
import iconv from 'iconv-lite';

/** The charset a JSON body's Content-Type names, lower case; UTF-8 when it names none (or cannot be read). */
export function bodyCharset(contentType: string | undefined): string {
  try {
    return (contentType === undefined ? undefined : parseContentType(contentType).parameters.charset?.toLowerCase()) ?? 'utf-8';
  } catch {
    // The JSON parser read its Content-Type already; one that cannot be read names no charset either.
    return 'utf-8';
  }
}

/**
 * A JSON body's text, decoded as the JSON parser decoded it (iconv-lite, in
 * the charset its Content-Type names; UTF-16's byte order by its byte-order
 * mark), a byte-order mark dropped: what is read again from a body (its names,
 * a value as written) is what was parsed.
 */
export function bodyText(rawBody: Buffer, contentType: string | undefined): string {
  return iconv.decode(rawBody, bodyCharset(contentType));
}
