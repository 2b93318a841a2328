import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { TenantPrincipal } from './tenant-authenticator.service.js';

const principals = new WeakMap<Request, TenantPrincipal>();

export function setPrincipal(request: Request, principal: TenantPrincipal): void {
  principals.set(request, principal);
}

/** The calling tenant and key, on routes behind `TenantGuard`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): TenantPrincipal => {
  const principal = principals.get(context.switchToHttp().getRequest<Request>());
  if (principal === undefined) throw new Error('CurrentPrincipal used on a route without TenantGuard');
  return principal;
});
