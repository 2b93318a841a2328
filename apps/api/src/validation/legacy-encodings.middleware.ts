import { format as formatContentType, parse as parseContentType } from 'content-type';
import type { NextFunction, Request, Response } from 'express';

/** The WHATWG Encoding Standard's labels of UTF-8 other than `utf-8` itself, which the body parsers know alone. */
const UTF8_LABELS = new Set(['utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8']);

/**
 * Legacy names the body parsers do not know, read as what they name: `Content-Encoding: x-gzip`, which some clients
 * still send, as gzip (RFC 9110, 8.4.1.3: a recipient SHOULD take it to be gzip), and a charset labelled `utf8` (or
 * another label of UTF-8 browsers read as UTF-8) as `utf-8`.
 */
export function legacyEncodingsMiddleware(request: Request, _response: Response, next: NextFunction): void {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && /x-gzip/i.test(encoding)) request.headers['content-encoding'] = encoding.replace(/x-gzip/gi, 'gzip');
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && /charset/i.test(contentType)) request.headers['content-type'] = withUtf8Named(contentType);
  next();
}

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
