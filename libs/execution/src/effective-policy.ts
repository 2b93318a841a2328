import { AppError, AppErrorCode } from '@airlock/errors';
import { type SandboxPolicy, sandboxPolicySchema } from '@airlock/sandbox';
import type { QuotaOverrides } from './quota-overrides.schema.js';

/** The override that set a policy field, named as the admin sent it: `http.allowedHosts.0` is `allowedHosts.0`, `quotas.x` is `x`. */
function overrideField(policyPath: readonly PropertyKey[]): string {
  const path = policyPath.map(String);
  if (path[0] === 'http' && path[1] === 'allowedHosts') return path.slice(1).join('.');
  if (path[0] === 'quotas') return path.slice(1).join('.');
  return path.join('.');
}

/**
 * Applies an admin's overrides to a tier. A combination that is not a valid
 * policy is a validation error naming the field (as `overrides.<field>`).
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
    const issues = parsed.error.issues.map((issue) => ({ field: `overrides.${overrideField(issue.path)}`, message: issue.message }));
    throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
      details: { issues },
    });
  }
  return parsed.data;
}
