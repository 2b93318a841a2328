import type { AuditEvent } from '@airlock/db';
import { z } from 'zod';
import { queryLimit } from '../validation/list-page.js';
import { positionCursorSchema } from '../validation/opaque-cursor.js';
import { storableDateTime } from '../validation/storable-dates.js';

export const auditQuerySchema = z.strictObject({
  limit: queryLimit(200, 50),
  cursor: positionCursorSchema().optional().describe('The nextCursor of the previous page.'),
  before: storableDateTime().optional().describe('Only entries recorded before this time.'),
});

export const adminAuditQuerySchema = auditQuerySchema.extend({ tenantId: z.uuid().optional() });

export const auditEventViewSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid().nullable(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.unknown(),
  createdAt: z.iso.datetime(),
});

export function toAuditEventView(event: AuditEvent): z.infer<typeof auditEventViewSchema> {
  return {
    id: event.id,
    tenantId: event.tenantId,
    actor: event.actor,
    action: event.action,
    target: event.target,
    details: event.details,
    createdAt: event.createdAt.toISOString(),
  };
}
