import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diffMigrationsToSchema, MIGRATIONS_DIR, SCHEMA_PATH } from '@airlock/db';

describe('prisma/schema.prisma and the migrations', () => {
  it('describe the same schema (Prisma schema engine diff is empty)', async () => {
    const diff = await diffMigrationsToSchema(MIGRATIONS_DIR, SCHEMA_PATH);
    assert.equal(diff.empty, true, `schema.prisma differs from the migrations; run "npm run db:diff -- <name>":\n${diff.sql}`);
  });

  it('are told apart when the schema gains a column the migrations lack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-schema-'));
    try {
      const schema = (await readFile(SCHEMA_PATH, 'utf8')).replace(
        'model Tenant {',
        'model Tenant {\n  plan String? @db.VarChar(10)',
      );
      const changedSchema = join(dir, 'schema.prisma');
      await writeFile(changedSchema, schema);
      const diff = await diffMigrationsToSchema(MIGRATIONS_DIR, changedSchema);
      assert.equal(diff.empty, false);
      assert.match(diff.sql, /ALTER TABLE "tenants" ADD COLUMN\s+"plan" VARCHAR\(10\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
