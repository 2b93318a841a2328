/** What the admin routes answer (see the API's OpenAPI document, /docs). */

export interface TenantView {
  id: string;
  name: string;
  tier: string;
  createdAt: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** Shown this once: Airlock keeps only its hash. */
  key: string;
}

export interface QuotaView {
  tier: string;
  overrides: Record<string, unknown>;
  effective: Record<string, unknown>;
  /** What the limits are checked against now (null while Airlock's Redis is away). */
  today: { day: string; invocations: number; fuel: number; inFlight: number } | null;
}

/** A sentence of what a tenant used today, against the limits that count it. */
export function usedToday(quota: QuotaView): string {
  if (quota.today === null) return "Today's counts cannot be read right now.";
  const quotas = (quota.effective.quotas ?? {}) as Record<string, number | undefined>;
  const of = (used: number, limit: number | undefined) => `${used.toLocaleString()}${limit === undefined ? '' : ` of ${limit.toLocaleString()}`}`;
  return (
    `Today (${quota.today.day}, UTC): ${of(quota.today.invocations, quotas.invocationsPerDay)} invocations, ` +
    `${of(quota.today.fuel, quotas.fuelPerDay)} fuel (test runs included), ${of(quota.today.inFlight, quotas.concurrentRuns)} runs under way.`
  );
}

export interface UsageDay {
  day: string;
  invocations: Record<string, number>;
  fuel: number;
  runMs: number;
  egressBytes: number;
}

export interface Usage {
  from: string;
  to: string;
  days: UsageDay[];
}

export interface Approval {
  id: string;
  tenantId: string;
  pluginId: string;
  pluginName: string;
  version: number;
  permissions: string[];
  requested: Array<{ permission: string; reason: 'beyond_tier' | 'new' }>;
  previous: string[];
  status: 'pending' | 'approved' | 'rejected';
  note: string | null;
  decidedAt: string | null;
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  tenantId: string | null;
  actor: string;
  action: string;
  target: string | null;
  createdAt: string;
}

/** The sandbox tiers a tenant can be put on (sandbox-policies/). */
export const TIERS = ['free', 'standard', 'enterprise'] as const;
