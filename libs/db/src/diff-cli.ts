// `npm run db:diff -- <name>`: writes the SQL that takes the database built by
// the existing migrations to prisma/schema.prisma, as the next migration
// prisma/migrations/<timestamp>_<name>/migration.sql. Review it before committing.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS_DIR, SCHEMA_PATH } from './paths.js';
import { diffMigrationsToSchema } from './schema-engine/schema-diff.js';

const name = process.argv[2] ?? '';
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error('Usage: npm run db:diff -- <snake_case_name>   (for example: add_plugins)');
  process.exit(2);
}

const diff = await diffMigrationsToSchema(MIGRATIONS_DIR, SCHEMA_PATH);
if (diff.empty) {
  console.log('prisma/schema.prisma and the migrations already agree: nothing to write.');
} else {
  const timestamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const directory = join(MIGRATIONS_DIR, `${timestamp}_${name}`);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'migration.sql'), diff.sql);
  console.log(`Wrote ${join(directory, 'migration.sql')}:\n\n${diff.sql}`);
}
