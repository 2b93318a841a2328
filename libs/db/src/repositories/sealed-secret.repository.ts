import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

/** Where sealed secrets are kept: a binding's secrets, a webhook's signing secret. */
export type SealedSecretKind = 'bindingSecrets' | 'webhookSecret';

const COLUMNS: Record<SealedSecretKind, { table: Prisma.Sql; column: Prisma.Sql }> = {
  bindingSecrets: { table: Prisma.raw('bindings'), column: Prisma.raw('secrets') },
  webhookSecret: { table: Prisma.raw('webhooks'), column: Prisma.raw('secret') },
};

export interface SealedSecret {
  id: string;
  tenantId: string;
  sealed: string;
}

/** Sealed secrets as stored, for resealing them under the current key (see SecretResealer). */
export class SealedSecretRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Up to `limit` sealed values of `kind` that do not start with `currentPrefix`, by id after `afterId`. */
  due(kind: SealedSecretKind, currentPrefix: string, afterId: string | null, limit: number): Promise<SealedSecret[]> {
    const { table, column } = COLUMNS[kind];
    return this.prisma.$queryRaw<SealedSecret[]>`
      SELECT id::text AS id, tenant_id::text AS "tenantId", ${column} AS sealed FROM ${table}
       WHERE ${column} IS NOT NULL AND left(${column}, ${currentPrefix.length}::int) <> ${currentPrefix}
         AND (${afterId}::uuid IS NULL OR id > ${afterId}::uuid)
       ORDER BY ${table}.id
       LIMIT ${limit}::int`;
  }

  /** Replaces a sealed value unless it changed since it was read (set anew meanwhile); says whether it did. */
  async replaceIfUnchanged(kind: SealedSecretKind, secret: SealedSecret, resealed: string): Promise<boolean> {
    const { table, column } = COLUMNS[kind];
    const changed = await this.prisma.$executeRaw`
      UPDATE ${table} SET ${column} = ${resealed} WHERE id = ${secret.id}::uuid AND ${column} = ${secret.sealed}`;
    return changed === 1;
  }
}
