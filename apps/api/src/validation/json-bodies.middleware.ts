import { AppError, AppErrorCode } from '@airlock/errors';
import type { NextFunction, Request, Response } from 'express';

/** The one route that takes a module's raw bytes (application/wasm): adding a version. */
const MODULE_UPLOAD = /^\/v1\/plugins\/[^/]+\/versions\/?$/;

/** Whether `request` may carry a raw module: a POST to the upload route. */
function takesModule(request: Request): boolean {
  return request.method === 'POST' && MODULE_UPLOAD.test(request.path);
}

/**
 * Every body the API reads is JSON, except module uploads (application/wasm,
 * on the upload route only). A body of another type (a form, text, a JSON body
 * sent without its header, as `curl -d` does; a module sent elsewhere, which
 * would be read as up to the upload limit of bytes to validate) gets a 415 that
 * says what to send, before it is read.
 */
export function jsonBodiesMiddleware(request: Request, _response: Response, next: NextFunction): void {
  // `is` answers null for a request without a body, false for a body of none of these types; an empty body
  // (a POST without one still says Content-Length: 0) counts as none.
  const moduleUpload = takesModule(request);
  const accepted = moduleUpload ? ['application/json', 'application/wasm'] : ['application/json'];
  if (request.headers['content-length'] === '0' || request.is(accepted) !== false) {
    next();
    return;
  }
  const sent = request.headers['content-type'] ?? 'no Content-Type';
  next(new AppError(AppErrorCode.UnsupportedMediaType, `The body was sent as ${sent}; send JSON with Content-Type: application/json${moduleUpload ? ', or the module as application/wasm' : ''}.`));
}
