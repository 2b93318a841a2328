import { metrics } from '@airlock/telemetry';
import type { NextFunction, Request, Response } from 'express';

/**
 * Counts and times every request by method, matched route (not the raw path: ids would explode the series) and status.
 * On `close`, which comes after `finish` or instead of it: a stream its client ends never finishes, and counts too.
 */
export function requestMetricsMiddleware(request: Request, response: Response, next: NextFunction): void {
  const started = performance.now();
  response.once('close', () => {
    const route = request.route === undefined ? 'unmatched' : `${request.baseUrl}${(request.route as { path: string }).path}`;
    metrics.httpRequests.inc({ method: request.method, route, status: String(response.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, (performance.now() - started) / 1000);
  });
  next();
}
