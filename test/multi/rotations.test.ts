/**
 * Many instances, one database: 1,000 due secrets and four processes whose schedulers
 * auto-start due rotations. Each secret gets exactly one rotation, whoever starts it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { connectPostgres, type M28Store } from '../../src/index.js';
import { createDatabase, useChildren, type Message } from './children.js';

const INSTANCES = 4;
const SECRETS = 1000;

describe.runIf(process.env.DATABASE_URL)(
  `rotation starts across ${INSTANCES} processes (needs PostgreSQL: PGlite has one connection)`,
  () => {
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    let store: M28Store;
    beforeAll(async () => {
      database = await createDatabase(inject('postgresTemplate'));
      store = await connectPostgres(database.url, { max: 2 });
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    // Registered after the database's hooks, so that it runs before them.
    const spawnChild = useChildren();

    const count = async (query: ReturnType<typeof sql>) =>
      (await store.query<{ n: number }>(query))[0]?.n;

    it(`starts each of ${SECRETS} due secrets exactly once`, { timeout: 60_000 }, async (t) => {
      // As the superuser, which row-level security does not restrict.
      await store.query(sql`
        insert into m28.secrets_config (scope, key_name, key_type, next_rotation_at)
        select 'multi', 'key_' || g, 'api_key', now() - interval '1 hour' - g * interval '1 s'
        from generate_series(1, ${SECRETS}) as g`);
      const dueSql = sql`select count(*)::int as n from m28.secrets_config
        where status = 'active' and next_rotation_at <= now()`;
      expect(await count(dueSql)).toBe(SECRETS);

      const workers = Array.from({ length: INSTANCES }, (_, i) =>
        spawnChild('multi-rotation-worker.ts', `scheduler-${i}`, {
          M28_URL: database!.url,
          M28_BATCH_SIZE: '100',
          M28_INTERVAL_MS: '100',
        }),
      );
      await Promise.all(workers.map((w) => w.waitFor((m) => m.event === 'ready', 25_000)));
      const goAt = Date.now();
      workers.forEach((worker) => worker.send({ cmd: 'go' }));
      const reports: Message[] = await Promise.all(
        workers.map((w) => w.waitFor((m) => m.event !== 'ready' && m.event !== 'scanned', 30_000)),
      );
      const exits = await Promise.all(workers.map((worker) => worker.exited));
      const ms = Date.now() - goAt;

      expect(reports.map((r) => r.event)).toEqual(Array(INSTANCES).fill('done'));
      expect(exits.map((exit) => [exit.code, exit.stderr])).toEqual(Array(INSTANCES).fill([0, '']));
      expect(reports.flatMap((r) => r.errors as string[])).toEqual([]);
      const started = reports.map((r) => r.startedByScans as number);
      for (const [i, report] of reports.entries()) {
        expect(Number.isInteger(started[i]) && started[i]! >= 0).toBe(true);
        expect(report.startedEvents).toBe(started[i]);
      }
      await t.annotate(`rotations started per process: ${started.join(', ')}, in ${ms} ms`);
      expect(started.reduce((sum, n) => sum + n, 0)).toBe(SECRETS);

      expect(await count(sql`select count(*)::int as n from m28.secrets_rotation_log`)).toBe(
        SECRETS,
      );
      expect(
        await count(
          sql`select count(distinct secret_config_id)::int as n from m28.secrets_rotation_log`,
        ),
      ).toBe(SECRETS);
      expect(await count(dueSql)).toBe(0);
      expect(
        await count(sql`select count(*)::int as n from m28.secrets_rotation_log
          where rotation_type = 'scheduled' and status = 'in_progress'
            and initiated_by = 'rotation-scheduler'`),
      ).toBe(SECRETS);
      expect(
        await count(sql`select count(*)::int as n from m28.audit_log
          where action = 'secret_rotation.start'`),
      ).toBe(SECRETS);
    });
  },
);
