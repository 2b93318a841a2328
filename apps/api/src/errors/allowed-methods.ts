import type { Request } from 'express';

/** The parts of Express's router read here: its layers, each with the route it serves. */
interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * The methods some route of the app serves at the request's path (HEAD with
 * GET), from Express's own routing table: a request with another method gets
 * 405 and an Allow header rather than a 404 that says the path does not exist.
 */
export function allowedMethods(request: Request): string[] {
  const stack = (request.app as unknown as { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    // Wildcard routes are middleware Nest mounts for every path and method (the request logger), not endpoints.
    if (layer.route === undefined || String(layer.route.path).includes('*') || !layer.match(request.path)) continue;
    for (const [method, served] of Object.entries(layer.route.methods)) if (served && method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
