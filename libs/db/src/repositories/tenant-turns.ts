import type { PrismaClient } from '../generated/prisma/client.js';

/**
 * The first statement of a transaction in which a tenant's creations of one
 * kind take turns: an advisory lock held to the end of the transaction. The
 * statements after it see every creation committed before, so a conditional
 * insert (a unique name, a limit on how many) holds under concurrent requests.
 */
export function tenantTurn(prisma: PrismaClient, kind: string, tenantId: string) {
  return prisma.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtextextended(${`${kind}:${tenantId}`}, 0))) AS l`;
}
