import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { invalidField } from './invalid-field.js';

const TAKES_QUERY = 'airlock:takes-query';

/** Marks a route handler as one that reads query parameters (ZodQuery does). */
export const TakesQuery = () => SetMetadata(TAKES_QUERY, true);

/**
 * Marks routes (a handler, or a whole controller) that take any query and ignore it: health probes and metrics
 * scrapers may add one (a cache-busting `?_=`, Prometheus `params`), and a 400 would read as the service being down.
 */
export const IgnoresQuery = TakesQuery;

/**
 * A query parameter sent to a route that takes none is a 400 naming it, as an unknown one is on the routes that take
 * some: `GET /v1/events/:id?include=logs` must not look as if `include` did something.
 */
@Injectable()
export class QueryParametersInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && this.reflector.getAllAndOverride<boolean>(TAKES_QUERY, [context.getHandler(), context.getClass()]) !== true) {
      const request = context.switchToHttp().getRequest<Request>();
      // The raw URL first: most requests carry no query, and Express parses `request.query` on each read.
      if (request.url.includes('?')) {
        const [first] = Object.keys(request.query);
        if (first !== undefined) throw invalidField('query', first, 'is not a known field: this route takes no query parameters');
      }
    }
    return next.handle();
  }
}
