import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** What a request's module upload may be, where its tenant's tier allows less than the server does. */
const tierLimits = new WeakMap<Request, number>();

/** The tenant's tier allows modules of at most `bytes`: the upload is read no further than that. */
export function limitModuleUpload(request: Request, bytes: number): void {
  tierLimits.set(request, bytes);
}

/** The tier's limit on this request's module upload, when it is below the server's. */
export function tierModuleLimitOf(request: Request): number | undefined {
  return tierLimits.get(request);
}

/**
 * Reads raw module uploads (application/wasm), gzip inflated, each up to the
 * least of the server's upload limit and its tenant's tier's module size: a
 * free tenant's 64 MiB upload is refused at its tier's 2 MiB, not read whole
 * to be refused at admission. The limit applies to the inflated bytes.
 */
export function moduleBodies(serverLimitBytes: number): RequestHandler {
  // One parser per limit: limits are the server's and its tiers' (with admins' overrides), a handful of values.
  const parsers = new Map<number, RequestHandler>();
  return (request: Request, response: Response, next: NextFunction) => {
    const limit = Math.min(serverLimitBytes, tierLimits.get(request) ?? serverLimitBytes);
    let parser = parsers.get(limit);
    if (parser === undefined) {
      parser = express.raw({ type: 'application/wasm', limit });
      parsers.set(limit, parser);
    }
    parser(request, response, next);
  };
}
