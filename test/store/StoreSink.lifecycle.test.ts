import { describe, expect, it, vi } from 'vitest';

import type { M28Database, M28Role, M28Store, StoreSinkEvents } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  countByType,
  eventRows,
  healthRow,
  sleep,
  uniqueProvider,
  useOps,
} from './sink-support.js';

type Flushed = Parameters<StoreSinkEvents['store:flushed']>[0];

/** Holds the store's next transaction until `release()` is called. */
function holdNextTransaction(store: M28Store) {
  const withRole = store.withRole.bind(store);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const held = new Promise<void>((resolve) => (entered = resolve));
  vi.spyOn(store, 'withRole').mockImplementationOnce(
    async (role: M28Role, work: (tx: M28Database) => Promise<unknown>) => {
      entered();
      await gate;

      return withRole(role, work) as Promise<never>;
    },
  );

  return { held, release };
}

const QUIET = { breakerTrips: { enabled: false }, healthCheckFailures: { enabled: false } };
describe.each(backends)('StoreSink lifecycle on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it('writes on close() what was buffered while a flush was in flight', async () => {
    const { store } = database();
    const provider = uniqueProvider('close_inflight');
    const ops = openOps({
      // Alert rows are not what this test counts.
      alerts: QUIET,
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 60_000,
    });
    await ops.start();
    await ops.fire(provider, 'api', () => 'ok');
    const { held, release } = holdNextTransaction(store);
    const first = ops.sink!.flush();
    await held;

    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);
    const closing = ops.close();
    // Let close() reach its last flush, which must wait for the one in flight.
    await sleep(50);
    release();
    await Promise.all([first, closing]);

    expect(ops.sink?.stats).toMatchObject({ flushes: 2, events: 2 });

    expect(countByType(await eventRows(store, provider))).toMatchObject({ breaker_open: 1 });
    expect(await healthRow(store, provider, 'api')).toMatchObject({
      circuit_breaker_state: 'open',
      total_calls: 2,
      total_failures: 1,
    });
  });

  it('resolves a flush() asked for during another only once its own data is written', async () => {
    const { store } = database();
    const provider = uniqueProvider('flush_twice');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, flushIntervalMs: 60_000 });
    await ops.start();
    await ops.fire(provider, 'api', () => 'ok');
    const { held, release } = holdNextTransaction(store);
    const first = ops.sink!.flush();
    await held;

    await ops.fire(provider, 'api', () => 'ok');
    const second = ops.sink!.flush();
    release();
    await second;

    expect(ops.sink?.stats.flushes).toBe(2);
    expect(await healthRow(store, provider, 'api')).toMatchObject({ total_calls: 2 });
    await first;
  });

  it('keeps a change made during a flush for the next one', async () => {
    const { store } = database();
    const provider = uniqueProvider('dirty');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, flushIntervalMs: 60_000 });
    const flushed: Flushed[] = [];
    ops.on('store:flushed', (event) => flushed.push(event));
    await ops.start();
    await ops.fire(provider, 'api', () => 'ok');
    const { held, release } = holdNextTransaction(store);
    const first = ops.sink!.flush();
    await held;

    // A status change with no call behind it: only the snapshot records it.
    ops.monitor.applyToggle(
      provider,
      'api',
      { enabled: false, maintenanceMode: false, maintenanceUntil: null },
      { origin: 'remote' },
    );
    release();
    await first;
    await ops.sink!.flush();

    expect(flushed).toEqual([
      { snapshots: 1, events: 0, statements: 2 },
      { snapshots: 1, events: 0, statements: 2 },
    ]);
  });

  it('counts a breaker disposed and created again from zero', async () => {
    const { store } = database();
    const provider = uniqueProvider('recreated');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, flushIntervalMs: 60_000 });
    await ops.start();
    for (let i = 0; i < 5; i += 1) {
      await ops.fire(provider, 'api', () => 'ok');
    }
    await ops.sink!.flush();

    ops.breakers.dispose(provider, 'api');
    await ops.fire(provider, 'api', () => 'ok');
    await ops.fire(provider, 'api', () => 'ok');
    await ops.sink!.flush();

    expect(await healthRow(store, provider, 'api')).toMatchObject({
      total_calls: 7,
      total_successes: 7,
    });
  });

  it('writes no check failure for checks refused while a provider is disabled', async () => {
    const { store } = database();
    const provider = uniqueProvider('refused');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { check: () => true } },
      intervalMs: 3_600_000,
      flushIntervalMs: 60_000,
    });
    await ops.start();
    await ops.toggle({ provider, service: 'api', enabled: false, reason: 'r', actor: 'a' });

    for (let i = 0; i < 3; i += 1) {
      expect(await ops.monitor.check(provider, 'api')).toMatchObject({ reason: 'disabled' });
    }
    await ops.sink!.flush();

    expect(countByType(await eventRows(store, provider))).toEqual({ toggle: 1 });
  });
});
