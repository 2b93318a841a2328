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
  today: z
    .object({
      day: z.iso.date(),
      invocations: z.number().int().describe('Invocations admitted today (UTC), against invocationsPerDay.'),
      fuel: z.number().describe("Fuel burned today, against fuelPerDay: test runs' included, which usage by day does not count."),
      inFlight: z.number().int().describe('Runs queued or running, against concurrentRuns.'),
    })
    .nullable()
    .describe('What the limits are checked against now; null while Redis cannot be reached.'),
});
