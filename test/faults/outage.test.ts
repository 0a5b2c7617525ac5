import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  createOps,
  isBreakerOpenError,
  isM28Error,
  type M28Ops,
  type M28Store,
} from '../../src/index.js';
import { openDatabase, type TestDatabase } from '../support/databases.js';
import { countByType, eventRows, sleep, uniqueProvider } from '../store/sink-support.js';
import {
  adminConnection,
  databaseOf,
  onPostgres,
  percentile,
  record,
  terminateAll,
  toggleInSql,
  DATABASE_URL,
  expectedRows,
  expectPrompt,
} from './support.js';

type Phase = 'before' | 'outage' | 'after';

interface Call {
  readonly phase: Phase;
  readonly ms: number;
  readonly outcome: 'value' | 'provider' | 'refused' | 'other';
}

const msOf = (call: Call) => call.ms;

const OUTAGE_MS = 1500;
// Within the outage, the provider fails for the first 100 ms of every 400: with two failures
// to open and 150 ms to half-open, that is an open, a half-open and a close per cycle.
const CYCLE_MS = 400;
const FAILING_MS = 100;

describe.runIf(DATABASE_URL)(onPostgres('Database down mid-run'), () => {
  let database: TestDatabase;
  let admin: ReturnType<typeof adminConnection>;
  let other: M28Store;
  let ops: M28Ops | undefined;

  beforeAll(async () => {
    database = await openDatabase('postgres');
    admin = adminConnection();
    other = await database.connectAnother!(1);
  });

  afterAll(async () => {
    await ops?.close();
    if (admin && database?.url) {
      await admin.unsafe(`alter database ${databaseOf(database.url)} allow_connections true`);
    }
    await admin?.end({ timeout: 5 });
    await database?.close();
  });

  // Before the store ran its own transaction wrapper over postgres.js 3.4.9, this run ended
  // the process about one time in eight (porsager/postgres#1208): see postgresTransaction.
  it('keeps calls fast, writes every transition once, and listens again', async () => {
    const name = databaseOf(database.url!);
    const provider = uniqueProvider('outage');
    ops = createOps({
      store: database.store,
      migrate: false,
      providers: {
        [`${provider}/api`]: { failureThreshold: 2, resetTimeoutMs: 150, timeoutMs: false },
      },
      flushIntervalMs: 100,
      // Far beyond the test: a toggle that arrives comes over LISTEN.
      pollIntervalMs: 60_000,
    });
    const seen = record(ops);
    await ops.start();

    let phase: Phase = 'before';
    let outageStartedAt = 0;
    // The last cycles are healthy: the breaker has closed again before the outage ends.
    const failing = () => {
      const elapsed = performance.now() - outageStartedAt;

      return phase === 'outage' && elapsed < OUTAGE_MS - 350 && elapsed % CYCLE_MS < FAILING_MS;
    };
    const call = ops.wrap(provider, 'api', async (n: number) => {
      if (failing()) {
        throw new Error('provider down');
      }

      return n;
    });

    const calls: Call[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < 5000; i += 1) {
        const at = phase;
        const started = performance.now();
        const outcome = await call(i).then(
          (value): Call['outcome'] => (value === i ? 'value' : 'other'),
          (error: unknown): Call['outcome'] =>
            isBreakerOpenError(error)
              ? 'refused'
              : (error as Error).message === 'provider down'
                ? 'provider'
                : 'other',
        );
        calls.push({ phase: at, ms: performance.now() - started, outcome });
        await sleep(2);
      }
    })();

    await sleep(400);
    await admin.unsafe(`alter database ${name} allow_connections false`);
    phase = 'outage';
    outageStartedAt = performance.now();
    for (let i = 0; i < 20 && performance.now() - outageStartedAt < OUTAGE_MS; i += 1) {
      await terminateAll(admin, name);
      await sleep(150);
    }
    await admin.unsafe(`alter database ${name} allow_connections true`);
    phase = 'after';
    await sleep(400);
    running = false;
    await loop;

    // No call failed, waited or was refused because of the store.
    const during = calls.filter((c) => c.phase === 'outage');
    const before = calls.filter((c) => c.phase === 'before');
    expect(during.length).toBeGreaterThan(100);
    expect(before.length).toBeGreaterThan(20);
    expect(calls.filter((c) => c.outcome === 'other')).toEqual([]);
    expect(calls.filter((c) => c.phase !== 'outage' && c.outcome !== 'value')).toEqual([]);
    expectPrompt(calls.map(msOf));
    const p99 = (some: readonly Call[]) => percentile(99, some.map(msOf));
    expect(p99(during)).toBeLessThan(Math.max(10, 3 * p99(before)));

    // The outage was seen, and the breaker went round several times during it.
    expect(seen.errors.length).toBeGreaterThan(0);
    expect(seen.errors.every(isM28Error)).toBe(true);
    expect(seen.breaker_open).toBeGreaterThanOrEqual(2);
    expect(ops.breakers.get(provider, 'api')?.state).toBe('closed');

    // Once the database is back, every transition is written exactly once.
    await vi.waitFor(
      async () => expect(countByType(await eventRows(other, provider))).toEqual(expectedRows(seen)),
      { timeout: 20_000, interval: 200 },
    );
    const rows = await eventRows(other, provider);
    expect(new Set(rows.map((row) => row.event_key)).size).toBe(rows.length);
    expect(seen.dropped).toEqual([]);
    expect(ops.sink?.stats.dropped).toBe(0);
    expect(ops.sink?.stats.failures).toBeGreaterThan(0);

    // LISTEN is back: a toggle in plain SQL reaches the instance within a second.
    await toggleInSql(other, provider, false);
    const toggled = performance.now();
    await vi.waitFor(
      () => expect(ops?.breakers.get(provider, 'api')?.access.kind).toBe('disabled'),
      { timeout: 1000, interval: 5 },
    );
    expect(performance.now() - toggled).toBeLessThan(1000);
  });
});
