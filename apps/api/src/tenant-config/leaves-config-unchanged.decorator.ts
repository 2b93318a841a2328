import { SetMetadata } from '@nestjs/common';

export const LEAVES_CONFIG_UNCHANGED = 'airlock:leaves-config-unchanged';

/**
 * Marks a write route that changes no tenant configuration (keys, quotas,
 * plugins, versions, bindings, approvals): sending events, invoking, testing.
 * Every other successful write drops the tenant's cached configuration, so a
 * route left unmarked costs a cache refill, never a stale read.
 */
export const LeavesConfigUnchanged = () => SetMetadata(LEAVES_CONFIG_UNCHANGED, true);
