import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { OperationalMetricsWriter, isValidationError, type M28Store } from '../../src/index.js';
import { advance, answer, fakeSources, type FakeBreaker } from './alertSupport.js';

interface SentRow {
  metric_name: string;
  provider_name: string;
  service_type: string;
  value: number;
  labels: Record<string, unknown>;
  recorded_at: string;
}

const dialect = new PgDialect();

/** A store that records the rows each write sends, and fails while `down` is set. */
function fakeStore() {
  const batches: SentRow[][] = [];
  const state = { down: false };
  const store = {
    withRole: (_role: string, work: (tx: unknown) => Promise<unknown>) => work({}),
    query: async (query: SQL) => {
      if (state.down) {
        throw new Error('the database is down');
      }
      const rows = JSON.parse(String(dialect.sqlToQuery(query).params[0])) as SentRow[];
      batches.push(rows);

      return [{ written: rows.length + 1 }];
    },
  } as unknown as M28Store;

  return { store, batches, state };
}

const MIN = 60_000;

describe('OperationalMetricsWriter', () => {
  let sources: ReturnType<typeof fakeSources>;
  let breaker: FakeBreaker;
  let writer: OperationalMetricsWriter | undefined;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    sources = fakeSources();
    breaker = sources.addBreaker('stripe', 'payment');
  });
  afterEach(async () => {
    await writer?.close();
    vi.useRealTimers();
  });

  function start(store: M28Store) {
    const { registry, monitor } = sources;
    writer = new OperationalMetricsWriter({ store, registry, monitor, intervalMs: MIN });
    writer.start();

    return writer;
  }

  function setCircuit(state: 'open' | 'closed') {
    Object.assign(breaker, {
      circuit:
        state === 'open'
          ? { state, openedAt: new Date(), nextAttemptAt: new Date(Date.now() + MIN) }
          : { state },
    });
    if (state === 'open') {
      sources.registry.emit('breaker:open', {
        provider: 'stripe',
        service: 'payment',
        openedAt: new Date(),
        nextAttemptAt: new Date(Date.now() + MIN),
        failures: 5,
      });
    } else {
      sources.registry.emit('breaker:close', {
        provider: 'stripe',
        service: 'payment',
        reason: 'trial_succeeded',
      });
    }
  }

  it('writes the share of the interval the provider took calls', async () => {
    const { store, batches } = fakeStore();
    start(store);

    await advance(20_000);
    setCircuit('open');
    await advance(15_000);
    setCircuit('closed');
    await advance(25_000);
    await advance(MIN);

    const availability = batches.map((b) => b.find((r) => r.metric_name === 'availability'));
    expect(availability.map((r) => r?.value)).toEqual([0.75, 1]);
    expect(availability[0]).toMatchObject({
      provider_name: 'stripe',
      service_type: 'payment',
      labels: { interval_ms: MIN },
      recorded_at: '2030-01-01T00:01:00.000Z',
    });
  });

  it('counts a disabled provider as unavailable from its toggle on', async () => {
    const { store, batches } = fakeStore();
    start(store);

    await advance(45_000);
    Object.assign(breaker, { access: { kind: 'disabled' } });
    sources.monitor.emit('provider:toggle', {
      provider: 'stripe',
      service: 'payment',
      enabled: false,
      maintenanceMode: false,
      maintenanceUntil: null,
      origin: 'local',
    });
    await advance(15_000);

    expect(batches[0]?.find((r) => r.metric_name === 'availability')?.value).toBe(0.75);
  });

  it("writes the interval's success rate and response time, and none without calls", async () => {
    const { store, batches } = fakeStore();
    answer(breaker, 50, 9999);
    start(store);

    answer(breaker, 3, 100);
    answer(breaker, 1, 300);
    breaker.counters.fires += 1;
    breaker.counters.failures += 1;
    await advance(MIN);
    await advance(MIN);

    const named = (batch: number, name: string) =>
      batches[batch]?.filter((r) => r.metric_name === name).map((r) => [r.value, r.labels.calls]);
    expect(named(0, 'success_rate')).toEqual([[0.8, 5]]);
    expect(named(0, 'response_time_ms')).toEqual([[150, 4]]);
    expect(named(1, 'success_rate')).toEqual([]);
    expect(named(1, 'response_time_ms')).toEqual([]);
    expect(named(1, 'availability')).toHaveLength(1);
  });

  it('keeps the rows of a failed write, with their times, for the next one', async () => {
    const { store, batches, state } = fakeStore();
    const w = start(store);
    const errors: Error[] = [];
    w.on('error', (error) => errors.push(error));
    const written: number[] = [];
    w.on('metrics:written', ({ rows }) => written.push(rows));

    state.down = true;
    await advance(MIN);
    state.down = false;
    await advance(MIN);

    expect(errors.map((e) => e.message)).toEqual(['the database is down']);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((r) => r.recorded_at)).toEqual([
      '2030-01-01T00:01:00.000Z',
      '2030-01-01T00:02:00.000Z',
    ]);
    expect(written).toEqual([3]);
  });

  it('stops writing once closed', async () => {
    const { store, batches } = fakeStore();
    const w = start(store);
    await w.close();
    await w.close();

    await advance(5 * MIN);

    expect(batches).toEqual([]);
  });

  it('refuses an interval out of range, naming it', () => {
    const { store } = fakeStore();
    const { registry } = sources;

    for (const intervalMs of [0, 1.5, 2 ** 31]) {
      const error = (() => {
        try {
          new OperationalMetricsWriter({ store, registry, intervalMs });
        } catch (caught) {
          return caught;
        }
      })();

      expect(isValidationError(error) && error.field).toBe('intervalMs');
    }
  });
});
