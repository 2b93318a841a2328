import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { NextFunction, Request, Response } from 'express';

/** The one route that takes a module's raw bytes (application/wasm): adding a version. */
const MODULE_UPLOAD = /^\/v1\/plugins\/[^/]+\/versions\/?$/i;

/** Whether `request` may carry a raw module: a POST to the upload route. */
export function takesModule(request: Request): boolean {
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

/**
 * The JSON parser's check of each body's bytes before it parses them: they are
 * kept beside the body (`request.rawBody`: an event's payload is read again from
 * them), and bytes that are not UTF-8 are refused (400). Decoded leniently, they
 * would become U+FFFD: two different idempotency keys or names would be one,
 * and a payload would reach the plugin changed.
 */
export function keepJsonBytes(request: IncomingMessage, _response: unknown, body: Buffer, charset: string): void {
  (request as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
  if (/^utf-?8$/i.test(charset) && !isUtf8(body)) {
    throw Object.assign(new Error('The request body is not valid UTF-8.'), { status: 400, type: 'entity.encoding.invalid' });
  }
  // Every body the API reads is an object: a bare value (`null`, `"x"`, `5`) is valid JSON, said so rather than "not JSON".
  const first = body.find((byte) => !JSON_WHITESPACE.has(byte));
  if (first !== undefined && first !== OPEN_BRACE && first !== OPEN_BRACKET && isJson(body)) {
    throw Object.assign(new Error('The request body is a bare JSON value.'), { status: 400, type: 'entity.not.object' });
  }
}

const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
