import type { PrismaClient } from '../generated/prisma/client.js';

/**
 * Runs a conditional insert (a unique name, a limit on how many) of one of a
 * tenant's things while the tenant's creations of that kind take turns: an
 * advisory lock is taken by a first statement and held to the end of the
 * transaction, so the insert, a later statement, sees every creation committed
 * before it, and the condition holds under concurrent requests. True when the
 * insert made its row.
 */
export async function insertInTurn(
  prisma: PrismaClient,
  kind: string,
  tenantId: string,
  insert: ReturnType<PrismaClient['$queryRaw']>,
): Promise<boolean> {
  const [, inserted] = await prisma.$transaction([
    prisma.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtextextended(${`${kind}:${tenantId}`}, 0))) AS l`,
    insert,
  ]);
  return (inserted as unknown[]).length > 0;
}
