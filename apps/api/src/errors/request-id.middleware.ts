import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const requestIds = new WeakMap<Request, string>();

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a
 * new one), echoes it in the response header, and keeps it for error bodies and logs.
 * Registered before the body parser so even a rejected body gets one.
 */
export function requestIdMiddleware(request: Request, response: Response, next: NextFunction): void {
  const given = request.header('x-request-id');
  const id = given !== undefined && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
  requestIds.set(request, id);
  response.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(request: Request): string {
  return requestIds.get(request) ?? 'unknown';
}
