import type { Tenant } from '@airlock/db';
import { z } from 'zod';
import { displayName } from '../validation/display-name.js';
import { listPageQuery, listPageSchema } from '../validation/list-page.js';

/** The sandbox tiers a tenant can be put on. */
export const KNOWN_TIERS = ['free', 'standard', 'enterprise'] as const;

export const createTenantSchema = z.strictObject({
  name: displayName(),
  tier: z.enum(KNOWN_TIERS).default('free'),
});

export const listTenantsQuerySchema = z.strictObject(listPageQuery);

export const tenantViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  tier: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const tenantPageSchema = listPageSchema(tenantViewSchema);

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
