import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { TenantPrincipal } from './tenant-authenticator.service.js';

const principals = new WeakMap<Request, TenantPrincipal>();

export function setPrincipal(request: Request, principal: TenantPrincipal): void {
  principals.set(request, principal);
}

/** The calling tenant and key, or undefined when no tenant key let the request in. */
export function principalOf(request: Request): TenantPrincipal | undefined {
  return principals.get(request);
}

/** The calling tenant and key, on routes behind `TenantGuard`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): TenantPrincipal => {
  const principal = principalOf(context.switchToHttp().getRequest<Request>());
  if (principal === undefined) throw new Error('CurrentPrincipal used on a route without TenantGuard');
  return principal;
});
