import { AppError, AppErrorCode } from '@airlock/errors';
import { type SandboxPolicy, sandboxPolicySchema } from '@airlock/sandbox';
import type { QuotaOverrides } from './quota-overrides.schema.js';

/**
 * Applies an admin's overrides to a tier. A combination that is not a valid
 * policy is a validation error naming the field (as `overrides.<path>`).
 */
export function effectivePolicy(tier: SandboxPolicy, overrides: QuotaOverrides): SandboxPolicy {
  const { allowedHosts, maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns, retentionDays, ...limits } = overrides;
  const quotas = { maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns, retentionDays };
  const merged = {
    ...tier,
    ...limits,
    http: { ...tier.http, ...(allowedHosts === undefined ? {} : { allowedHosts }) },
    quotas: { ...tier.quotas, ...Object.fromEntries(Object.entries(quotas).filter(([, value]) => value !== undefined)) },
  };
  const parsed = sandboxPolicySchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ field: `overrides.${issue.path.join('.')}`, message: issue.message }));
    throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
      details: { issues },
    });
  }
  return parsed.data;
}
