import { metrics } from '@airlock/telemetry';
import type { Application, NextFunction, Request, Response } from 'express';

/** A route the app serves, as a pattern its paths match. */
interface RoutePattern {
  route: string;
  methods: ReadonlySet<string>;
  pattern: RegExp;
}

/** Express's router as it lists its routes (a layer per route, with its path and methods). */
interface RouterStack {
  stack: Array<{ route?: { path: unknown; methods: Record<string, boolean> } }>;
}

/** `/v1/plugins/:pluginId` as a pattern of whole paths (a trailing slash allowed, as Express allows it). */
function patternOf(path: string): RegExp {
  const segments = path.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}/?$`, 'i');
}

/** Each app's routes, read once they are all registered (at the first request that needs them). */
const routesByApp = new WeakMap<Application, RoutePattern[]>();

function routesOf(app: Application): RoutePattern[] {
  const stack = (app as unknown as { router?: RouterStack }).router?.stack ?? [];
  return stack.flatMap(({ route }) =>
    route === undefined || typeof route.path !== 'string'
      ? []
      : [{ route: route.path, methods: new Set(Object.keys(route.methods).filter((method) => route.methods[method]).map((method) => method.toUpperCase())), pattern: patternOf(route.path) }],
  );
}

/**
 * The route a request is counted under: the one it matched, or, for a request refused before routing (a body that
 * does not parse, is too large or of a type not taken), the one its method and path would have matched, so that
 * those refusals count under the route like any other answer of it. `unmatched` when no route serves it.
 */
function routeOf(request: Request): string {
  if (request.route !== undefined) return `${request.baseUrl}${(request.route as { path: string }).path}`;
  let routes = routesByApp.get(request.app);
  if (routes === undefined) routesByApp.set(request.app, (routes = routesOf(request.app)));
  return routes.find((candidate) => candidate.methods.has(request.method) && candidate.pattern.test(request.path))?.route ?? 'unmatched';
}

/**
 * Counts and times every request by method, matched route (not the raw path: ids would explode the series) and status.
 * On `close`, which comes after `finish` or instead of it: a stream its client ends never finishes, and counts too.
 */
export function requestMetricsMiddleware(request: Request, response: Response, next: NextFunction): void {
  const started = performance.now();
  response.once('close', () => {
    const route = routeOf(request);
    metrics.httpRequests.inc({ method: request.method, route, status: String(response.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, (performance.now() - started) / 1000);
  });
  next();
}
