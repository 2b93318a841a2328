import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import { trace } from '@opentelemetry/api';
import { ATTR } from '@airlock/telemetry/api';
import type { Request } from 'express';
import { bearerToken } from './credentials.js';
import { principalOf, setPrincipal } from './current-principal.js';
import { TenantAuthenticator } from './tenant-authenticator.service.js';

/** One body for every way a key can be wrong, so a caller learns nothing from which. */
export const INVALID_TENANT_KEY_MESSAGE = 'A valid tenant API key is required: send "Authorization: Bearer ak_...".';

/** Lets in requests that carry a live tenant API key, and records whose it is. */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly authenticator: TenantAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    // A request with a body had its key checked before the body was read (see credentialsBeforeBodies); a body can
    // take minutes to arrive, so that key is checked again now (a cached read), as a key revoked meanwhile holds no more.
    const early = principalOf(request);
    const token = bearerToken(request.header('authorization'));
    const principal =
      early !== undefined ? ((await this.authenticator.stillValid(early)) ? early : null) : token === null ? null : await this.authenticator.authenticate(token);
    if (principal === null) throw new AppError(AppErrorCode.Unauthenticated, INVALID_TENANT_KEY_MESSAGE);
    setPrincipal(request, principal);
    // The request's span (and every span under it) is now this tenant's: it goes to the tenant's trace store.
    trace.getActiveSpan()?.setAttribute(ATTR.tenantId, principal.tenant.id);
    return true;
  }
}
