import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  connectPostgres,
  createOps,
  type M28Database,
  type M28Ops,
  type M28Role,
  type M28Store,
  type OpsOptions,
} from '../../src/index.js';
import { openDatabase, type TestDatabase } from '../support/databases.js';
import { countByType, eventRows, healthRow, sleep, uniqueProvider } from '../store/sink-support.js';
import {
  DATABASE_URL,
  expectPrompt,
  onPostgres,
  record,
  SlowProxy,
  type Emitted,
} from './support.js';

const DELAY_MS = 500;
const FLUSH_INTERVAL_MS = 100;

/** One store transaction: when it began and settled, and whether it was a sink flush. */
interface Span {
  readonly start: number;
  end: number | undefined;
  flush: boolean;
}

/** The most spans in flight at any one time. */
function maxOverlap(spans: readonly Span[]): number {
  const edges = spans.flatMap((s) => [
    { at: s.start, step: 1 },
    { at: s.end ?? Infinity, step: -1 },
  ]);
  // At the same instant, an end before a start: back to back is not an overlap.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let current = 0;
  let most = 0;
  for (const edge of edges) {
    current += edge.step;
    most = Math.max(most, current);
  }

  return most;
}

/** Records every transaction of `store`, and marks those that write the sink's batch. */
function recordSpans(store: M28Store): Span[] {
  const dialect = new PgDialect();
  const spans: Span[] = [];
  const spanOf = new WeakMap<object, Span>();
  const withRole = store.withRole.bind(store);
  const query = store.query.bind(store);
  vi.spyOn(store, 'withRole').mockImplementation(
    (role: M28Role, work: (tx: M28Database) => Promise<unknown>) => {
      const span: Span = { start: performance.now(), end: undefined, flush: false };
      spans.push(span);

      return withRole(role, (tx) => {
        spanOf.set(tx, span);

        return work(tx);
      }).finally(() => {
        span.end = performance.now();
      });
    },
  );
  vi.spyOn(store, 'query').mockImplementation((statement, db) => {
    const span = db && spanOf.get(db);
    if (span && dialect.sqlToQuery(statement).sql.includes('record_provider_snapshots')) {
      span.flush = true;
    }

    return query(statement, db);
  });

  return spans;
}

/** What one window of calls against the slowed store saw. */
interface Window {
  readonly ops: M28Ops;
  readonly busy: string;
  readonly tripped: string;
  readonly spans: Span[];
  readonly seen: Emitted;
  readonly calls: number;
  readonly latencies: number[];
  readonly ticks: number;
  /** Flushes begun, and flushes committed, while the database was slow. */
  readonly begun: number;
  readonly committed: number;
}

/**
 * Starts a facade on `store` at full speed, slows the proxy down, and calls a provider every
 * 10 ms for `windowMs`, tripping another's breaker early on. The proxy is fast again after.
 */
async function slowWindow(
  store: M28Store,
  proxy: SlowProxy,
  windowMs: number,
  options: Partial<OpsOptions> = {},
): Promise<Window> {
  const busy = uniqueProvider('slow_busy');
  const tripped = uniqueProvider('slow_tripped');
  const ops = createOps({
    store,
    migrate: false,
    providers: {
      [`${busy}/api`]: {},
      [`${tripped}/api`]: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    },
    flushIntervalMs: FLUSH_INTERVAL_MS,
    pollIntervalMs: 60_000,
    ...options,
  });
  opened.push(ops);
  await ops.start();
  const seen = record(ops);
  let committed = 0;
  ops.on('store:flushed', () => (committed += 1));
  const spans = recordSpans(store);
  proxy.delayMs = DELAY_MS;

  const call = ops.wrap(busy, 'api', async (n: number) => n * 3);
  const fail = ops.wrap(tripped, 'api', async () => {
    throw new Error('provider down');
  });
  const latencies: number[] = [];
  let calls = 0;
  const started = performance.now();
  for (let i = 0; i < 2000 && performance.now() - started < windowMs; i += 1) {
    if (i === 50) {
      // Transitions ask for a prompt flush while one is in flight.
      await Promise.allSettled([fail(), fail()]);
    }
    const before = performance.now();
    expect(await call(i)).toBe(i * 3);
    latencies.push(performance.now() - before);
    calls += 1;
    await sleep(10);
  }
  const ticks = (performance.now() - started) / FLUSH_INTERVAL_MS;
  const begun = spans.filter((s) => s.flush).length;
  const window = { ops, busy, tripped, spans, seen, calls, latencies, ticks, begun, committed };
  proxy.delayMs = 0;
  await vi.waitFor(() => expect(spans.every((s) => s.end !== undefined)).toBe(true), {
    timeout: 15_000,
    interval: 50,
  });

  return window;
}

const opened: M28Ops[] = [];

describe.runIf(DATABASE_URL)(onPostgres('Slow database'), () => {
  let database: TestDatabase;
  let proxy: SlowProxy;
  let store: M28Store;

  beforeAll(async () => {
    database = await openDatabase('postgres');
    const target = new URL(DATABASE_URL as string);
    proxy = await SlowProxy.open({ host: '127.0.0.1', port: Number(target.port || 5432) });
    store = await connectPostgres(proxy.urlFor(database.url!), { max: 5 });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    proxy.delayMs = 0;
    await Promise.all(opened.splice(0).map((ops) => ops.close()));
  });

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await database?.close();
  });

  it('answers calls at once, and never runs two flushes at a time', async () => {
    const window = await slowWindow(store, proxy, 9000);
    const { ops, spans, seen, calls } = window;

    expect(calls).toBeGreaterThan(200);
    expectPrompt(window.latencies);
    expect(seen.breaker_open).toBe(1);
    // The interval ticked ~90 times, but a flush takes seconds: ticks were skipped, not piled.
    expect(window.ticks).toBeGreaterThan(50);
    expect(window.begun).toBeGreaterThanOrEqual(2);
    expect(window.begun).toBeLessThanOrEqual(8);
    expect(window.committed).toBeGreaterThanOrEqual(1);
    expect(maxOverlap(spans.filter((s) => s.flush))).toBe(1);
    expect(maxOverlap(spans)).toBe(1);
    expect(seen.errors).toEqual([]);

    // With no overlap and no timeout, the counters add up exactly.
    await ops.close();
    expect(await healthRow(database.store, window.busy, 'api')).toMatchObject({
      total_calls: calls,
      total_successes: calls,
    });
    expect(countByType(await eventRows(database.store, window.tripped))).toMatchObject({
      breaker_open: 1,
    });
  });

  // A flush that outlives storeTimeoutMs still runs: the next one waits for it (up to ten
  // deadlines), and a late commit moves the baseline, so no count is written twice.
  it('keeps one flush at a time when flushes outlive storeTimeoutMs', async () => {
    const window = await slowWindow(store, proxy, 5000, { storeTimeoutMs: 1000 });

    expectPrompt(window.latencies);
    expect(window.seen.errors.length).toBeGreaterThan(0);
    await window.ops.close();
    const row = await healthRow(database.store, window.busy, 'api');
    expect({
      overlap: maxOverlap(window.spans.filter((s) => s.flush)),
      totalCalls: row?.total_calls,
    }).toEqual({ overlap: 1, totalCalls: window.calls });
  });
});
