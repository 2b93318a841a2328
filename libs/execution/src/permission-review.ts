import type { SandboxPolicy } from '@airlock/sandbox';

/** Permissions that reach beyond the plugin's own computation: data, network, the system interface. */
export const SENSITIVE_PERMISSIONS = ['http', 'kv', 'wasi'] as const;

export interface RequestedPermission {
  permission: string;
  /** `beyond_tier`: the tenant's policy does not grant it; `new`: the last published version with approved permissions did not use it. */
  reason: 'beyond_tier' | 'new';
}

/** What the tenant's policy grants, permission by permission. */
function granted(policy: SandboxPolicy, permission: string): boolean {
  switch (permission) {
    case 'wasi':
      return policy.wasi;
    case 'kv':
      return policy.kv.enabled;
    case 'http':
      return policy.http.allowedHosts.length > 0 && policy.http.maxRequestsPerCall > 0;
    default:
      return true;
  }
}

/**
 * The sensitive permissions a new version asks for that an admin must approve:
 * those its tier does not grant, and those the last version published with approved
 * permissions (`previous`; null for a plugin never published) did not have.
 */
export function reviewPermissions(permissions: readonly string[], previous: readonly string[] | null, policy: SandboxPolicy): RequestedPermission[] {
  const requested: RequestedPermission[] = [];
  for (const permission of SENSITIVE_PERMISSIONS) {
    if (!permissions.includes(permission)) continue;
    if (!granted(policy, permission)) requested.push({ permission, reason: 'beyond_tier' });
    else if (isNew(permission, previous)) requested.push({ permission, reason: 'new' });
  }
  return requested;
}

/**
 * The sensitive permissions `permissions` has that `previous` did not: what a
 * version cleared against a baseline must be reviewed for once that baseline
 * is withdrawn (its tier was checked when it was made, and is not in question).
 */
export function newPermissions(permissions: readonly string[], previous: readonly string[] | null): RequestedPermission[] {
  return SENSITIVE_PERMISSIONS.filter((permission) => permissions.includes(permission) && isNew(permission, previous)).map((permission) => ({ permission, reason: 'new' }));
}

/** A plugin never published has no baseline: its first version is reviewed against its tier only. */
function isNew(permission: string, previous: readonly string[] | null): boolean {
  return previous !== null && !previous.includes(permission);
}

/**
 * The policy uploads are admitted and tested under: the tenant's, with the
 * sensitive host functions importable, so that a version asking for more than
 * its tier is stored and reviewed rather than refused. Binding it waits for an
 * admin's approval.
 */
export function reviewPolicy(policy: SandboxPolicy): SandboxPolicy {
  return { ...policy, wasi: true, kv: { ...policy.kv, enabled: true } };
}

/** Whether a version's permissions keep it from running: awaiting an admin's decision, or refused. */
export function heldForApproval(approvalStatus: string): boolean {
  return approvalStatus === 'pending' || approvalStatus === 'rejected';
}
