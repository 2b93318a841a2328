import { AppError, AppErrorCode } from '@airlock/errors';
import { type SandboxPolicy, sandboxPolicySchema } from '@airlock/sandbox';
import type { QuotaOverrides } from './quota-overrides.schema.js';

/** The override that set a policy field, named as the admin sent it: `http.allowedHosts.0` is `allowedHosts.0`, `quotas.x` is `x`. */
function overrideField(policyPath: readonly PropertyKey[]): string {
  const path = policyPath.map(String);
  if (path[0] === 'http') return path.slice(1).join('.');
  if (path[0] === 'quotas') return path.slice(1).join('.');
  return path.join('.');
}

function definedOnly(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/**
 * Refuses overrides that would be saved but change nothing: hosts allowed
 * while the policy allows no HTTP request (a free tier's), which an admin
 * means as "this tenant may call these hosts".
 */
export function refuseIneffectiveOverrides(policy: SandboxPolicy, overrides: QuotaOverrides): void {
  if ((overrides.allowedHosts?.length ?? 0) > 0 && (policy.http.maxRequestsPerCall === 0 || policy.http.maxResponseBytes === 0)) {
    const missing = policy.http.maxRequestsPerCall === 0 ? 'no HTTP requests (maxRequestsPerCall 0)' : 'no HTTP response bytes (maxResponseBytes 0)';
    const message = `has no effect: the policy allows ${missing}; set maxRequestsPerCall and maxResponseBytes too, or choose a tier with HTTP`;
    throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: overrides.allowedHosts: ${message}`, {
      details: { issues: [{ field: 'overrides.allowedHosts', message }] },
    });
  }
}

/**
 * Applies an admin's overrides to a tier. A combination that is not a valid
 * policy is a validation error naming the field (as `overrides.<field>`).
 */
export function effectivePolicy(tier: SandboxPolicy, overrides: QuotaOverrides): SandboxPolicy {
  const { allowedHosts, maxRequestsPerCall, maxResponseBytes, maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns, retentionDays, ...limits } =
    overrides;
  const quotas = { maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns, retentionDays };
  const http = { allowedHosts, maxRequestsPerCall, maxResponseBytes };
  const merged = {
    ...tier,
    ...limits,
    http: { ...tier.http, ...definedOnly(http) },
    quotas: { ...tier.quotas, ...definedOnly(quotas) },
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
