import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { sql } from 'drizzle-orm';

import { SchemaTooNewError } from '../errors/database.js';
import type { M28Database } from './M28Store.js';
import type { TransactionRunner } from './postgresTransaction.js';
import { translateDatabaseError } from './sqlstate.js';

/** Options for `migrate()`. */
export interface MigrateOptions {
  /**
   * Folder holding the migrations and `meta/_journal.json`.
   * @defaultValue the `drizzle/` folder shipped with m28-ops
   */
  readonly migrationsFolder?: string;
}

/** What one `migrate()` call did. */
export interface MigrateResult {
  /** Versions applied by this call, in order; empty when the schema was current. */
  readonly applied: readonly number[];
  /** The schema's migration version after the call. */
  readonly version: number;
}

/** One migration file, as listed in Drizzle's journal. */
export interface Migration {
  /** The journal's index of the migration, recorded in `m28.schema_migrations`. */
  readonly version: number;
  /** The journal's tag, which is also the SQL file's name, such as `0000_tables`. */
  readonly name: string;
  /** The file's SQL statements, split at Drizzle's statement breakpoints, in order. */
  readonly statements: readonly string[];
}

/** Key of the transaction-scoped advisory lock that serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 728_280_028;

/** Finds the `drizzle/` folder next to the package root, from src/ or from dist/. */
function defaultMigrationsFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth += 1) {
    const candidate = join(folder, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) {
      return candidate;
    }
    folder = dirname(folder);
  }

  throw new Error('m28-ops: cannot find its drizzle/ migrations folder');
}

/** Reads the migrations listed in the journal, split at Drizzle's statement breakpoints. */
export function readMigrations(folder: string = defaultMigrationsFolder()): Migration[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };

  return journal.entries.map((entry) => {
    const text = readFileSync(join(folder, `${entry.tag}.sql`), 'utf8');
    const statements = text
      .split('--> statement-breakpoint')
      .map((statement) => statement.trim())
      .filter((statement) => statement.replace(/--[^\n]*/g, '').trim() !== '');

    return { version: entry.idx, name: entry.tag, statements };
  });
}

/**
 * Applies every pending migration in one transaction, under an advisory lock so that
 * concurrent migrators queue instead of colliding. Running it again changes nothing.
 *
 * `transaction` runs that transaction; `db.transaction` when left out. `M28Store.migrate()`
 * passes its own, which survives a connection lost mid-migration.
 * @throws {@link SchemaTooNewError} when the database has migrations this package lacks.
 */
export async function migrate(
  db: M28Database,
  options: MigrateOptions = {},
  transaction: TransactionRunner = (work) => db.transaction(work),
): Promise<MigrateResult> {
  const migrations = readMigrations(options.migrationsFolder);
  const knownVersion = Math.max(-1, ...migrations.map((migration) => migration.version));

  try {
    return await transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      const applied = await appliedVersions(tx);
      const newest = Math.max(-1, ...applied);
      if (newest > knownVersion) {
        throw new SchemaTooNewError(newest, knownVersion);
      }

      const done = new Set(applied);
      const appliedNow: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) {
          continue;
        }
        for (const statement of migration.statements) {
          await tx.execute(sql.raw(statement));
        }
        await tx.execute(sql`
          insert into m28.schema_migrations (version, name)
          values (${migration.version}, ${migration.name})`);
        appliedNow.push(migration.version);
      }

      return { applied: appliedNow, version: Math.max(newest, ...appliedNow) };
    });
  } catch (error) {
    throw translateDatabaseError(error);
  }
}

async function appliedVersions(tx: M28Database): Promise<number[]> {
  const table = await tx.execute(sql`select to_regclass('m28.schema_migrations') as name`);
  const rows = Array.isArray(table) ? table : (table as { rows: unknown[] }).rows;
  if ((rows[0] as { name: unknown } | undefined)?.name == null) {
    return [];
  }

  const versions = await tx.execute(sql`select version from m28.schema_migrations`);
  const versionRows = Array.isArray(versions) ? versions : (versions as { rows: unknown[] }).rows;

  return versionRows.map((row) => Number((row as { version: unknown }).version));
}
