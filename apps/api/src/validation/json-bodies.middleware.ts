import { AppError, AppErrorCode } from '@airlock/errors';
import type { NextFunction, Request, Response } from 'express';

/**
 * Every body the API reads is JSON, except module uploads (application/wasm).
 * A body of another type (a form, text, a JSON body sent without its header,
 * as `curl -d` does) would otherwise reach the routes as nothing at all and
 * be refused for missing fields; it gets a 415 that says what to send.
 */
export function jsonBodiesMiddleware(request: Request, _response: Response, next: NextFunction): void {
  // `is` answers null for a request without a body, false for a body of none of these types; an empty body
  // (a POST without one still says Content-Length: 0) counts as none.
  if (request.headers['content-length'] === '0' || request.is(['application/json', 'application/wasm']) !== false) {
    next();
    return;
  }
  const sent = request.headers['content-type'] ?? 'no Content-Type';
  next(new AppError(AppErrorCode.UnsupportedMediaType, `The body was sent as ${sent}; send JSON with Content-Type: application/json.`));
}
