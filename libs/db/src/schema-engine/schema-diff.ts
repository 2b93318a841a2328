import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { readMigrationFiles } from '../migrations/migration-files.js';

// Prisma's CLI downloads a native schema engine, which cannot be had offline.
// The same engine ships compiled to wasm; its package entry imports the .wasm
// as an ES module (not supported by Node), so we instantiate it here ourselves.
let engineLoaded: Promise<void> | undefined;

function loadEngine(): Promise<void> {
  engineLoaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const bindingsPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(bindingsPath.replace(/\.js$/, '.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': engineBindings });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return engineLoaded;
}

export interface SchemaDiff {
  /** True when the migrations already produce exactly the schema. */
  empty: boolean;
  /** The SQL that would take the migrated database to the schema. */
  sql: string;
}

/**
 * Asks Prisma's schema engine what SQL takes a database built by the migrations
 * in `migrationsDir` to the model in `schemaPath`. The migrations are replayed
 * in a throwaway in-memory PGlite (the "shadow database"); nothing else is touched.
 */
export async function diffMigrationsToSchema(migrationsDir: string, schemaPath: string): Promise<SchemaDiff> {
  await loadEngine();
  const schema = { path: basename(schemaPath), content: await readFile(schemaPath, 'utf8') };
  const migrations = await readMigrationFiles(migrationsDir);
  const scratch = new PGlite();
  const engine = await engineBindings.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(scratch)),
  );
  try {
    const result = await engine.diff({
      from: {
        tag: 'migrations',
        baseDir: migrationsDir,
        lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
        shadowDbInitScript: '',
        migrationDirectories: migrations.map((migration) => ({
          path: migration.name,
          migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: migration.sql } },
        })),
      },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    // exitCode 2 is the engine's "the diff is not empty", as in `prisma migrate diff --exit-code`.
    return { empty: result.exitCode === 0, sql: result.stdout ?? '' };
  } finally {
    engine.free();
    await scratch.close();
  }
}
