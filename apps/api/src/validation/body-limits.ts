import type { SandboxPolicy } from '@airlock/sandbox';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { BodyReader } from '../auth/credentials-before-bodies.middleware.js';
import { takesModule } from './json-bodies.middleware.js';

/** How large a request's body may be, and whose limit that is (said in a 413). */
export interface BodyLimit {
  bytes: number;
  /** Ends "larger than the N bytes …": `this server accepts`. */
  whose: string;
}

/** JSON bodies of routes that take a few fields (names, notes, hosts, URLs): what they hold fits many times over. */
export const SMALL_BODY_LIMIT_BYTES = 256 * 1024;
/** What an event's body holds besides its payload (its type, idempotency key, spacing), at most. */
const EVENT_ENVELOPE_BYTES = 64 * 1024;
/**
 * How much larger than the payload its body may be: a payload is measured as the plugin reads it, and a client may
 * write each of its bytes as a six-byte escape (`\u00e9`; Python escapes é, 2 bytes, as 6 by default).
 */
const MAX_ESCAPED_GROWTH = 6;

/**
 * JSON routes whose bodies may be megabytes: a version's source or module, a
 * call's input and config (100 entries of up to 64 KiB), a binding's config
 * and secrets. Every other route takes a few fields.
 */
const LARGE_JSON_ROUTES: Array<[method: string, path: RegExp]> = [
  ['POST', /^\/v1\/plugins\/[^/]+\/versions\/?$/i],
  ['POST', /^\/v1\/plugins\/[^/]+\/versions\/[^/]+\/test\/?$/i],
  ['POST', /^\/v1\/plugins\/[^/]+\/invoke\/?$/i],
  ['POST', /^\/v1\/bindings\/?$/i],
  ['PATCH', /^\/v1\/bindings\/[^/]+\/?$/i],
  ['POST', /^\/v1\/bindings\/[^/]+\/test\/?$/i],
];
// Express matches routes whatever their letters' case: so do these.
const EVENTS_ROUTE = /^\/v1\/events\/?$/i;

/**
 * The body limit of a request by a tenant, before its body is read: a module
 * upload's is its tier's module size; an event's, six times its tier's payload
 * size (as escapes may write it) and room for its other fields; a route that
 * takes a few fields, 256 KiB; the server's otherwise. Parsing JSON holds the
 * API's one thread: a tenant's 5 MB body of 400,000 keys to a route that takes
 * a name held it for a second and more, for every tenant, before its 400.
 */
export function tenantBodyLimit(request: Request, policy: SandboxPolicy, server: { bodyLimitBytes: number; moduleUploadLimitBytes: number }): BodyLimit | undefined {
  if (request.is('application/wasm')) {
    return takesModule(request) && policy.maxModuleBytes < server.moduleUploadLimitBytes
      ? { bytes: policy.maxModuleBytes, whose: "this tenant's tier allows a module (maxModuleBytes), once inflated" }
      : undefined;
  }
  if (request.method === 'POST' && EVENTS_ROUTE.test(request.path)) {
    const bytes = MAX_ESCAPED_GROWTH * policy.maxInputBytes + EVENT_ENVELOPE_BYTES;
    return bytes < server.bodyLimitBytes ? { bytes, whose: "an event of this tenant's may be (six times its tier's maxInputBytes, and its other fields)" } : undefined;
  }
  if (LARGE_JSON_ROUTES.some(([method, path]) => request.method === method && path.test(request.path))) return undefined;
  return SMALL_BODY_LIMIT_BYTES < server.bodyLimitBytes ? { bytes: SMALL_BODY_LIMIT_BYTES, whose: 'this route accepts' } : undefined;
}

const bodyLimits = new WeakMap<Request, BodyLimit>();

/** Who sent a request decides its body's limit (see tenantBodyLimit); an admin's are the server's. */
export function limitBodyFor(policyOf: (reader: Extract<BodyReader, { kind: 'tenant' }>) => Promise<SandboxPolicy>, server: { bodyLimitBytes: number; moduleUploadLimitBytes: number }) {
  return async (request: Request, reader: BodyReader): Promise<void> => {
    if (reader.kind !== 'tenant') return;
    const limit = tenantBodyLimit(request, await policyOf(reader), server);
    if (limit !== undefined) bodyLimits.set(request, limit);
  };
}

/** The limit a body was read to, when it is not the server's. */
export function bodyLimitOf(request: Request): BodyLimit | undefined {
  return bodyLimits.get(request);
}

/**
 * A body parser of express's (json or raw) that reads each body up to its
 * request's limit (bodyLimitOf), the server's `serverLimitBytes` otherwise.
 * gzip is inflated; the limit applies to the inflated bytes.
 */
export function limitedBodies<Options extends object>(
  parserOf: (options: Options & { limit: number }) => RequestHandler,
  options: NoInfer<Options>,
  serverLimitBytes: number,
): RequestHandler {
  // One parser per limit: limits are the server's, a route class's and the tiers' (with admins' overrides), a handful.
  const parsers = new Map<number, RequestHandler>();
  return (request: Request, response: Response, next: NextFunction) => {
    const limit = Math.min(serverLimitBytes, bodyLimits.get(request)?.bytes ?? serverLimitBytes);
    let parser = parsers.get(limit);
    if (parser === undefined) {
      parser = parserOf({ ...options, limit });
      parsers.set(limit, parser);
    }
    parser(request, response, next);
  };
}
