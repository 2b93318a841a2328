import { quotaOverridesSchema } from '@airlock/execution';
import { z } from 'zod';
import { KNOWN_TIERS } from '../tenants/tenant.schema.js';

export const putQuotaSchema = z
  .strictObject({
    tier: z.enum(KNOWN_TIERS).optional().describe('The new tier; absent, the tier stays as it is.'),
    overrides: quotaOverridesSchema.optional().describe('The new overrides, replacing the previous ones; absent, none.'),
  })
  // An empty body (a stray `curl -X PUT`) would otherwise erase every override.
  .refine((body) => body.tier !== undefined || body.overrides !== undefined, 'names neither tier nor overrides: nothing to change')
  .transform((body) => ({ tier: body.tier, overrides: body.overrides ?? {} }));

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
