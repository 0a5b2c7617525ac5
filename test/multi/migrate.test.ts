/**
 * Many instances, one database: four processes migrating one empty database at once. The
 * advisory lock queues them; one applies every migration and the others find nothing to do.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectPostgres, readMigrations, type M28Store } from '../../src/index.js';
import { createDatabase, useChildren, type Message } from './children.js';

const INSTANCES = 4;

describe.runIf(process.env.DATABASE_URL)(
  `migrate() from ${INSTANCES} processes at once (needs PostgreSQL: PGlite has one connection)`,
  () => {
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    let store: M28Store | undefined;
    beforeAll(async () => {
      database = await createDatabase();
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    // Registered after the database's hooks, so that it runs before them.
    const spawnChild = useChildren();

    it('applies every migration once, through exactly one process', async () => {
      const versions = readMigrations().map((migration) => migration.version);
      const migrators = Array.from({ length: INSTANCES }, (_, i) =>
        spawnChild('multi-migrate.ts', `migrator-${i}`, { M28_URL: database!.url }),
      );
      await Promise.all(migrators.map((m) => m.waitFor((msg) => msg.event === 'ready', 25_000)));
      migrators.forEach((migrator) => migrator.send({ cmd: 'go' }));
      const reports: Message[] = await Promise.all(
        migrators.map((m) => m.waitFor((msg) => msg.event !== 'ready', 30_000)),
      );
      const exits = await Promise.all(migrators.map((migrator) => migrator.exited));

      expect(reports.map((r) => [r.event, r.message])).toEqual(
        Array(INSTANCES).fill(['migrated', undefined]),
      );
      expect(exits.map((exit) => [exit.code, exit.stderr])).toEqual(Array(INSTANCES).fill([0, '']));
      const applied = reports.map((report) => report.applied as number[]);
      expect(applied.filter((list) => list.length > 0)).toEqual([versions]);
      expect(applied.filter((list) => list.length === 0)).toHaveLength(INSTANCES - 1);
      expect(reports.map((report) => report.version)).toEqual(
        Array(INSTANCES).fill(Math.max(...versions)),
      );
      // They ran at once: every migrator had started before the winner finished.
      const winner = reports.find((report) => (report.applied as number[]).length > 0)!;
      const startedAt = reports.map((report) => report.startedAt as number);
      expect(Math.max(...startedAt)).toBeLessThanOrEqual(winner.finishedAt as number);

      store = await connectPostgres(database!.url, { max: 1 });
      const rows = await store.query<{ version: number; times: number }>(
        sql`select version, count(*)::int as times from m28.schema_migrations
          group by version order by version`,
      );
      expect(rows).toEqual(versions.map((version) => ({ version, times: 1 })));
    });
  },
);
