import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  connectPostgres,
  isSchemaTooNewError,
  readMigrations,
  type M28Store,
} from '../../src/index.js';
import { backends, openDatabase, useDatabase } from '../support/databases.js';

const M28_TABLES = [
  'secrets_config',
  'secrets_rotation_log',
  'provider_health_status',
  'provider_breaker_reports',
  'provider_operational_events',
  'provider_config',
  'operational_metrics',
  'audit_log',
];

async function migrationCount(store: M28Store): Promise<number> {
  const [row] = await store.query<{ n: number }>(
    sql`select count(*)::int as n from m28.schema_migrations`,
  );

  return row?.n ?? -1;
}

describe.each(backends)('migrate() on %s', (backend) => {
  const database = useDatabase(backend);

  it('applies nothing the second time', async () => {
    const { store } = database();
    const before = await migrationCount(store);

    const result = await store.migrate();

    expect(result.applied).toEqual([]);
    expect(result.version).toBe(readMigrations().length - 1);
    expect(await migrationCount(store)).toBe(before);
  });

  it('records every shipped migration once', async () => {
    const rows = await database().store.query<{ version: number; name: string }>(
      sql`select version, name from m28.schema_migrations order by version`,
    );

    expect(rows).toEqual(readMigrations().map((m) => ({ version: m.version, name: m.name })));
  });

  it('refuses a database whose schema is newer than it knows', async () => {
    const { store } = database();
    const known = readMigrations().length - 1;
    await store.query(
      sql`insert into m28.schema_migrations (version, name) values (${known + 1}, 'future')`,
    );

    try {
      const error = await store.migrate().catch((e: unknown) => e);

      expect(isSchemaTooNewError(error)).toBe(true);
      expect((error as Error).message).toMatch(`migration ${known + 1}`);
    } finally {
      await store.query(sql`delete from m28.schema_migrations where version = ${known + 1}`);
    }
  });

  it('enables and forces row-level security on every M28 table', async () => {
    const rows = await database().store.query<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
    }>(sql`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'm28' and c.relkind = 'r' and c.relname <> 'schema_migrations'
      order by c.relname`);

    expect(rows.map((r) => r.relname).sort()).toEqual([...M28_TABLES].sort());
    for (const row of rows) {
      expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
  });

  it('pins search_path and revokes PUBLIC execute on SECURITY DEFINER functions', async () => {
    const rows = await database().store.query<{
      proname: string;
      proconfig: string[] | null;
      public_execute: boolean;
    }>(sql`
      select p.proname, p.proconfig,
        has_function_privilege('public', p.oid, 'execute') as public_execute
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'm28' and p.prosecdef`);

    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(
        row.proconfig?.some((c) => c.startsWith('search_path=')),
        row.proname,
      ).toBe(true);
      expect(row.public_execute, row.proname).toBe(false);
    }
  });

  it('creates the six group roles without login', async () => {
    const rows = await database().store.query<{ rolname: string; rolcanlogin: boolean }>(sql`
      select rolname, rolcanlogin from pg_roles where rolname like 'm28\_%' order by rolname`);

    expect(rows).toEqual(
      ['m28_admin', 'm28_client', 'm28_monitor', 'm28_reader', 'm28_superadmin', 'm28_system'].map(
        (rolname) => ({ rolname, rolcanlogin: false }),
      ),
    );
  });
});

describe('migrate() with a custom migrations folder', () => {
  it('runs every statement of a migration in order, in one transaction', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'm28-migrations-'));
    await mkdir(join(folder, 'meta'));
    const journal = JSON.parse(await readFile('drizzle/meta/_journal.json', 'utf8')) as {
      entries: { tag: string }[];
    };
    for (const entry of journal.entries) {
      await writeFile(join(folder, `${entry.tag}.sql`), await readFile(`drizzle/${entry.tag}.sql`));
    }
    journal.entries.push({
      ...journal.entries[0]!,
      idx: journal.entries.length,
      tag: '9999_bad',
    } as never);
    await writeFile(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
    await writeFile(
      join(folder, '9999_bad.sql'),
      'create table m28.half_done (id int);\n--> statement-breakpoint\nselect 1/0;',
    );
    const { store, close } = await openDatabase('pglite');

    try {
      await expect(store.migrate({ migrationsFolder: folder })).rejects.toThrow(/division by zero/);
      const [row] = await store.query<{ name: string | null }>(
        sql`select to_regclass('m28.half_done')::text as name`,
      );
      expect(row?.name).toBeNull();
    } finally {
      await close();
    }
  });
});

describe.runIf(process.env.DATABASE_URL)(
  'migrate() from four connections at once (needs DATABASE_URL: PGlite has one connection)',
  () => {
    it('applies the schema once when four migrators race on an empty database', async () => {
      const base = process.env.DATABASE_URL as string;
      const name = `m28_race_${Date.now()}`;
      const admin = await connectPostgres(base, { max: 1 });
      await admin.query(sql.raw(`create database ${name}`));
      const url = new URL(base);
      url.pathname = `/${name}`;
      const stores = await Promise.all(
        [1, 2, 3, 4].map(() => connectPostgres(url.toString(), { max: 1 })),
      );

      try {
        const results = await Promise.all(stores.map((s) => s.migrate()));

        const appliedCounts = results.map((r) => r.applied.length).sort();
        expect(appliedCounts).toEqual([0, 0, 0, readMigrations().length]);
        expect(await migrationCount(stores[0]!)).toBe(readMigrations().length);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await admin.query(sql.raw(`drop database if exists ${name} with (force)`));
        await admin.close();
      }
    });
  },
);

describe.runIf(process.env.DATABASE_URL)(
  'migrate() as a non-superuser owner (needs DATABASE_URL: PGlite has only its superuser)',
  () => {
    it('applies every migration as a CREATEROLE login that owns the database', async () => {
      const base = process.env.DATABASE_URL as string;
      const suffix = `${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const owner = `m28_owner_${suffix}`;
      const name = `m28_owned_${suffix}`;
      const admin = await connectPostgres(base, { max: 1 });
      await admin.query(sql.raw(`create role ${owner} login createrole`));
      await admin.query(sql.raw(`create database ${name} owner ${owner}`));
      const url = new URL(base);
      url.pathname = `/${name}`;
      url.username = owner;
      const store = await connectPostgres(url.toString(), { max: 1 });

      try {
        const result = await store.migrate();

        expect(result.applied).toHaveLength(readMigrations().length);
        const [row] = await store.query<{ superuser: boolean }>(
          sql`select rolsuper as superuser from pg_roles where rolname = current_user`,
        );
        expect(row?.superuser).toBe(false);
      } finally {
        await store.close();
        await admin.query(sql.raw(`drop database if exists ${name} with (force)`));
        await admin.query(sql.raw(`drop role if exists ${owner}`));
        await admin.close();
      }
    });
  },
);
