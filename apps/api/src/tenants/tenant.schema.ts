import type { Tenant } from '@airlock/db';
import { z } from 'zod';

/** The sandbox tiers a tenant can be put on. */
export const KNOWN_TIERS = ['free', 'standard', 'enterprise'] as const;

export const createTenantSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  tier: z.enum(KNOWN_TIERS).default('free'),
});

export const listTenantsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid('must be the nextCursor of a previous page').optional(),
});

export const tenantViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  tier: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const tenantPageSchema = z.object({
  items: z.array(tenantViewSchema),
  nextCursor: z.uuid().nullable().describe('Pass as ?cursor= for the next page; null on the last page.'),
});

export type TenantView = z.infer<typeof tenantViewSchema>;

export function toTenantView(tenant: Tenant): TenantView {
  return {
    id: tenant.id,
    name: tenant.name,
    tier: tenant.tier,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
  };
}
