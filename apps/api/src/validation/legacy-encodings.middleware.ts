import { format as formatContentType, parse as parseContentType } from 'content-type';
import type { NextFunction, Request, Response } from 'express';
import { bodyCharset } from './body-text.js';

/** The WHATWG Encoding Standard's labels of UTF-8 other than `utf-8` itself, which the body parsers know alone. */
const UTF8_LABELS = new Set(['utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8']);

/**
 * Legacy names the body parsers do not know, read as what they name: `Content-Encoding: x-gzip`, which some clients
 * still send, as gzip (RFC 9110, 8.4.1.3: a recipient SHOULD take it to be gzip), and a charset labelled `utf8` (or
 * another label of UTF-8 browsers read as UTF-8) as `utf-8`. A JSON body in a charset it is not read in
 * (READ_CHARSETS) is a 415.
 */
export function legacyEncodingsMiddleware(request: Request, _response: Response, next: NextFunction): void {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && /x-gzip/i.test(encoding)) request.headers['content-encoding'] = encoding.replace(/x-gzip/gi, 'gzip');
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && /charset/i.test(contentType)) {
    request.headers['content-type'] = withUtf8Named(contentType);
    const charset = bodyCharset(request.headers['content-type']);
    // `is` names the type for a body of it, and answers false or null otherwise.
    if (!READ_CHARSETS.has(charset) && typeof request.is('application/json') === 'string') {
      next(Object.assign(new Error(`unsupported charset "${charset}"`), { status: 415, type: 'charset.unsupported', charset }));
      return;
    }
  }
  next();
}

/**
 * The charsets a JSON body is read in: UTF-8, and UTF-16 and UTF-32 declared as such. The JSON parser takes any
 * `utf-*` its decoder knows, UTF-7 too, in which `+ACI-` is a quote: every check made on a body's bytes (that they
 * are UTF-8, where its numbers are) would read other text than the one parsed.
 */
const READ_CHARSETS = new Set(['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'utf-32', 'utf-32le', 'utf-32be']);

/** The Content-Type with a UTF-8 charset label other than `utf-8` written `utf-8`; as it was otherwise. */
function withUtf8Named(contentType: string): string {
  let parsed;
  try {
    parsed = parseContentType(contentType);
  } catch {
    return contentType;
  }
  const charset = parsed.parameters.charset?.toLowerCase();
  if (charset === undefined || !UTF8_LABELS.has(charset)) return contentType;
  return formatContentType({ type: parsed.type, parameters: { ...parsed.parameters, charset: 'utf-8' } });
}
