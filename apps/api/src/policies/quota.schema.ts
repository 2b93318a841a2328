import { quotaOverridesSchema } from '@airlock/execution';
import { z } from 'zod';
import { KNOWN_TIERS } from '../tenants/tenant.schema.js';

export const putQuotaSchema = z.strictObject({
  tier: z.enum(KNOWN_TIERS).optional(),
  overrides: quotaOverridesSchema.default({}),
});

export const quotaViewSchema = z.object({
  tier: z.string(),
  overrides: z.record(z.string(), z.unknown()),
  effective: z.record(z.string(), z.unknown()).describe('The tier with the overrides applied: what the tenant runs under.'),
});
