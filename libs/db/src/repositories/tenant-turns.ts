import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/**
 * Takes the turn of `kind` for `id` (a tenant, a plugin) in the current
 * transaction: an advisory lock held to its end, so transactions that take the
 * same turn run one after another from this statement on.
 */
export function takeTurn(prisma: PrismaClient | Prisma.TransactionClient, kind: string, id: string) {
  return prisma.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtextextended(${`${kind}:${id}`}, 0))) AS l`;
}

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
  const [, inserted] = await prisma.$transaction([takeTurn(prisma, kind, tenantId), insert]);
  return (inserted as unknown[]).length > 0;
}
