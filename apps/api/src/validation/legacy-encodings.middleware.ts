import type { NextFunction, Request, Response } from 'express';

/**
 * `Content-Encoding: x-gzip`, which some clients still send, read as gzip: HTTP says a recipient SHOULD take it
 * to be gzip (RFC 9110, 8.4.1.3), and the body parsers know only the registered name.
 */
export function legacyEncodingsMiddleware(request: Request, _response: Response, next: NextFunction): void {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && /x-gzip/i.test(encoding)) request.headers['content-encoding'] = encoding.replace(/x-gzip/gi, 'gzip');
  next();
}
