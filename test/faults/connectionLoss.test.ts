import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

import { fromDrizzle, isConnectionLostError, type M28Store } from '../../src/index.js';
import { CONNECTION_LOSS_GRACE_MS } from '../../src/store/postgresTransaction.js';
import { openDatabase, type TestDatabase } from '../support/databases.js';
import { sleep } from '../store/sink-support.js';
import { adminConnection, databaseOf, DATABASE_URL, onPostgres } from './support.js';

// postgres.js 3.4.9 ends the process when a connection dies under `sql.begin` and the driver
// then sends ROLLBACK down it (porsager/postgres#1154, #1208). Before the store ran its own
// transactions, the first test here did that within a second, every run.
describe.runIf(DATABASE_URL)(onPostgres('Connections killed under transactions'), () => {
  let database: TestDatabase;
  let admin: ReturnType<typeof adminConnection>;
  let store: M28Store;

  beforeAll(async () => {
    database = await openDatabase('postgres');
    admin = adminConnection();
    store = await database.connectAnother!(4);
  });

  afterAll(async () => {
    await admin?.end({ timeout: 5 });
    await database?.close();
  });

  const killStore = () =>
    admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${databaseOf(database.url!)} and pid <> pg_backend_pid()
        and application_name in ('m28-ops', 'm28-host')`;

  it('survives kills at every moment of a transaction, with typed errors', async () => {
    let committed = 0;
    const errors: unknown[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          await store.withRole('m28_admin', async (tx) => {
            await tx.execute(sql`select pg_sleep(0.002)`);
            await tx.execute(sql`select count(*) from m28.provider_config`);
          });
          committed += 1;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    for (let kill = 0; kill < 30; kill += 1) {
      await sleep(37 + (kill % 5) * 11);
      await killStore();
    }
    running = false;
    await Promise.all(workers);

    expect(errors.length).toBeGreaterThan(0);
    expect(committed).toBeGreaterThan(0);
    expect(errors.filter((error) => !isConnectionLostError(error))).toEqual([]);
    // The pool reconnects, and no connection was left inside a transaction. The last kill
    // can still be on its way to idle pooled connections (four at most), which calls meet.
    let row: { n: number } | undefined;
    for (let attempt = 0; attempt < 5 && !row; attempt += 1) {
      try {
        [row] = await store.withRole('m28_admin', (tx) =>
          store.query<{ n: number }>(sql`select count(*)::int as n from m28.provider_config`, tx),
        );
      } catch (error) {
        expect(isConnectionLostError(error)).toBe(true);
      }
    }
    expect(row).toEqual({ n: expect.any(Number) });
    const stuck = await admin`select count(*)::int as n from pg_stat_activity
      where datname = ${databaseOf(database.url!)} and state = 'idle in transaction'`;
    expect(stuck[0]?.n).toBe(0);
  });

  it('rejects a transaction whose connection dies mid-statement without waiting', async () => {
    const started = performance.now();
    const outcome = store
      .withRole('m28_admin', (tx) => store.query(sql`select pg_sleep(5)`, tx))
      .catch((error: unknown) => error);
    await sleep(200);
    await killStore();

    expect(isConnectionLostError(await outcome)).toBe(true);
    // The driver rejected the transaction; the store did not sit out its grace period.
    expect(performance.now() - started).toBeLessThan(CONNECTION_LOSS_GRACE_MS);
  });

  it('runs a host’s own postgres.js database through the same transactions', async () => {
    const client = postgres(database.url!, {
      max: 2,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: 'm28-host' },
    });
    const host = fromDrizzle(drizzle(client));
    try {
      const outcome = host
        .withRole('m28_admin', (tx) => host.query(sql`select pg_sleep(5)`, tx))
        .catch((error: unknown) => error);
      await sleep(200);
      await killStore();

      expect(isConnectionLostError(await outcome)).toBe(true);
      const rows = await host.withRole('m28_admin', (tx) => host.query(sql`select 1 as one`, tx));
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end({ timeout: 5 });
    }
  });
});
