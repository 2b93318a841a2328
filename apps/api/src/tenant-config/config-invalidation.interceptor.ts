import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, from, mergeMap, type Observable, throwError } from 'rxjs';
import { principalOf } from '../auth/current-principal.js';
import { LEAVES_CONFIG_UNCHANGED } from './leaves-config-unchanged.decorator.js';
import { ALL_TENANTS } from '@airlock/queue';
import { TenantConfigCache } from './tenant-config-cache.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After a successful write, drops the cached configuration of the tenant who
 * made it, or of every tenant when an admin did (admins change quotas, keys and
 * approvals of any tenant), before the response is sent. A write that failed
 * may have changed something before failing, so it drops them too.
 */
@Injectable()
export class ConfigInvalidationInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: TenantConfigCache,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    if (READS.has(request.method)) return next.handle();
    const unchanged = this.reflector.getAllAndOverride<boolean>(LEAVES_CONFIG_UNCHANGED, [context.getHandler(), context.getClass()]);
    if (unchanged === true) return next.handle();
    const tenantId = principalOf(request)?.tenant.id ?? ALL_TENANTS;
    return next.handle().pipe(
      mergeMap((result) => from(this.cache.invalidate(tenantId).then(() => result))),
      catchError((error: unknown) => from(this.cache.invalidate(tenantId)).pipe(mergeMap(() => throwError(() => error)))),
    );
  }
}
