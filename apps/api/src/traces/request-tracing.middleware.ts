import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR, SPAN } from '@airlock/telemetry/api';
import type { NextFunction, Request, Response } from 'express';

const tracer = trace.getTracer('airlock-api');

/**
 * One server span per request, continuing the caller's trace when it sends a
 * W3C `traceparent` (a host app's SDK call starts the trace that follows its
 * event through the queue, the worker and the sandbox). The route and status
 * are set when the response is done, or its client went away (a stream ends so);
 * the tenant by the tenant guard.
 */
export function requestTracingMiddleware(request: Request, response: Response, next: NextFunction): void {
  const parent = propagation.extract(context.active(), request.headers);
  const span = tracer.startSpan(SPAN.request(request.method, request.path), { kind: SpanKind.SERVER, attributes: { [ATTR.httpMethod]: request.method } }, parent);
  response.once('close', () => {
    const route = request.route === undefined ? undefined : `${request.baseUrl}${(request.route as { path: string }).path}`;
    if (route !== undefined) {
      span.updateName(SPAN.request(request.method, route));
      span.setAttribute(ATTR.httpRoute, route);
    }
    span.setAttribute(ATTR.httpStatus, response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
}
