import { Injectable } from '@nestjs/common';
import { AuditRepository } from '@airlock/db';

/** "key:<api key id>" for a tenant's key, "admin" for the admin token. */
export type Actor = string;

export const ADMIN_ACTOR: Actor = 'admin';

export function actorOf(principal: { apiKey: { id: string } }): Actor {
  return `key:${principal.apiKey.id}`;
}

/** Records who did what. Called after the change it records has been made. */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  record(tenantId: string | null, actor: Actor, action: string, target?: string, details?: Record<string, unknown>): Promise<void> {
    return this.audit.record({ tenantId, actor, action, target, details: details as never });
  }
}
