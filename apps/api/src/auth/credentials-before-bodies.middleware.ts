import { AppError, AppErrorCode } from '@airlock/errors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken, digestsEqual, sha256Hex } from './credentials.js';
import { ADMIN_TOKEN_REQUIRED_MESSAGE } from './admin.guard.js';
import { setPrincipal } from './current-principal.js';
import type { TenantAuthenticator, TenantPrincipal } from './tenant-authenticator.service.js';
import { INVALID_TENANT_KEY_MESSAGE } from './tenant.guard.js';

/** Routes only the admin token opens: what a body sent there without credentials is told to carry. */
const ADMIN_PATH = /^\/(v1\/admin|metrics)(\/|$)/i;

/** Whether a request comes with a body: a length other than 0, or one sent in chunks. */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Bytes of a refused body read and dropped, at most, before its connection is cut. */
const DISCARDED_BYTES = 64 * 1024;

/**
 * Reads a refused body and drops it while the 401 goes out, up to
 * DISCARDED_BYTES, then cuts the connection: a socket closed with bytes still
 * unread is reset, which can lose the answer before the client reads it, so a
 * short body is read to its end; a long one costs no more than this.
 */
function discardBody(request: Request): void {
  let read = 0;
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DISCARDED_BYTES) request.socket.destroy();
  });
  request.resume();
}

/** Who is calling, as far as a body's reading goes: the admin, a tenant (its key checked), or nobody. */
export type BodyReader = { kind: 'admin' } | { kind: 'tenant'; principal: TenantPrincipal };

/**
 * Bodies are read only for callers who may send them. Every route that takes
 * a body is behind the admin token or a tenant API key, and body parsers run
 * before a route's guard: without this, anyone who could reach the API had it
 * inflate and buffer a module of up to the upload limit (64 MiB from a 64 KB
 * gzip), or parse megabytes of JSON on its one thread, before being told 401.
 * A body sent without the admin token or a live tenant key is now a 401 before
 * it is parsed, its connection closed after at most 64 KiB of it is read and
 * dropped. The route's guard still decides what the caller may do there (a
 * tenant key on an admin route is a 403). `onReader` learns who is sending
 * before the body is read (its limit is its tenant's: see limitBodyFor).
 */
export function credentialsBeforeBodies(
  authenticator: TenantAuthenticator,
  adminTokenHash: string,
  onReader: (request: Request, reader: BodyReader) => Promise<void>,
): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    if (!hasBody(request)) {
      next();
      return;
    }
    const refuse = () => {
      response.setHeader('Connection', 'close');
      discardBody(request);
      next(new AppError(AppErrorCode.Unauthenticated, ADMIN_PATH.test(request.path) ? ADMIN_TOKEN_REQUIRED_MESSAGE : INVALID_TENANT_KEY_MESSAGE));
    };
    const token = bearerToken(request.header('authorization'));
    if (token === null) return refuse();
    if (digestsEqual(sha256Hex(token), adminTokenHash)) {
      onReader(request, { kind: 'admin' }).then(() => next(), next);
      return;
    }
    authenticator.authenticate(token).then(async (principal) => {
      if (principal === null) return refuse();
      // The route's TenantGuard takes it from here, checking only that the key still holds once the body is in.
      setPrincipal(request, principal);
      await onReader(request, { kind: 'tenant', principal });
      next();
    }).catch(next);
  };
}
