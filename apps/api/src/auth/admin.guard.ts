import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { Request } from 'express';
import { ADMIN_TOKEN_HASH } from '../infrastructure/api-dependencies.js';
import { bearerToken, digestsEqual, sha256Hex } from './credentials.js';
import { TenantAuthenticator } from './tenant-authenticator.service.js';

export const ADMIN_TOKEN_REQUIRED_MESSAGE = 'The admin token is required: send "Authorization: Bearer <admin token>".';

/** Lets in requests that carry the admin token; a tenant key gets 403, anything else 401. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_TOKEN_HASH) private readonly adminTokenHash: string,
    private readonly authenticator: TenantAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const token = bearerToken(context.switchToHttp().getRequest<Request>().header('authorization'));
    if (token !== null && digestsEqual(sha256Hex(token), this.adminTokenHash)) return true;
    if (token !== null && (await this.authenticator.authenticate(token)) !== null) {
      throw new AppError(AppErrorCode.Forbidden, 'This is an admin route; tenant API keys cannot use it.');
    }
    throw new AppError(AppErrorCode.Unauthenticated, ADMIN_TOKEN_REQUIRED_MESSAGE);
  }
}
