import { describe, expect, it, vi } from 'vitest';

import { isBreakerOpenError, isM28Error, type StoreSinkEvents } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { eventRows, healthRow, sleep, slowly, uniqueProvider, useOps } from './sink-support.js';

type Flushed = Parameters<StoreSinkEvents['store:flushed']>[0];

describe.each(backends)('StoreSink on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it.each([
    ['hangs', () => new Promise<never>(() => {})],
    ['fails', () => Promise.reject(new Error('connection terminated'))],
  ])('keeps calls off the database while the store %s', async (_, broken) => {
    const { store } = database();
    const provider = uniqueProvider('hot');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 2, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 50,
      storeTimeoutMs: 200,
    });
    const errors: Error[] = [];
    ops.on('error', (error) => errors.push(error));
    await ops.start();
    const spy = vi.spyOn(store, 'withRole').mockImplementation(broken);

    const double = ops.wrap(provider, 'api', async (n: number) => n * 2);
    const fail = ops.wrap(provider, 'api', async () => {
      throw new Error('provider says no');
    });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => double(i)));
    const failures = await Promise.allSettled([fail(), fail()]);
    const refused = await double(1).catch((error: unknown) => error);
    const elapsed = performance.now() - started;

    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(failures.map((f) => f.status === 'rejected' && String(f.reason))).toEqual([
      'Error: provider says no',
      'Error: provider says no',
    ]);
    expect(isBreakerOpenError(refused)).toBe(true);
    // A call that waited on the store would take its whole timeout (200 ms) at least.
    expect(elapsed).toBeLessThan(200);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(1), { timeout: 3000 });
    if (_ === 'hangs') {
      expect(isM28Error(errors[0]) && errors[0].code).toBe('M28_STORE_TIMEOUT');
    } else {
      expect(errors[0]?.message).toBe('connection terminated');
    }
    expect(ops.sink?.stats.flushes).toBe(0);

    spy.mockRestore();
    await vi.waitFor(() => expect(ops.sink?.stats.flushes).toBeGreaterThanOrEqual(1), {
      timeout: 5000,
      interval: 20,
    });
    expect(await healthRow(store, provider, 'api')).toMatchObject({
      circuit_breaker_state: 'open',
      total_calls: 43,
      total_successes: 40,
      total_failures: 2,
      total_rejects: 1,
    });
    expect((await eventRows(store, provider)).map((e) => e.event_type)).toContain('breaker_open');
  });

  it('writes many calls to three providers in one transaction per flush', async () => {
    const { store } = database();
    const names = ['a', 'b', 'c'].map((prefix) => uniqueProvider(`batch_${prefix}`));
    const ops = openOps({
      store,
      providers: Object.fromEntries(names.map((name) => [`${name}/api`, {}])),
      flushIntervalMs: 150,
    });
    const flushed: Flushed[] = [];
    ops.on('store:flushed', (event) => flushed.push(event));
    await ops.start();
    // The first flush writes every provider once; the calls then fall in the next interval.
    await vi.waitFor(() => expect(flushed).toHaveLength(1), { timeout: 2000, interval: 5 });
    const before = { ...ops.sink!.stats };
    const transactions = vi.spyOn(store, 'withRole');

    await Promise.all(
      names.flatMap((name, i) =>
        Array.from({ length: 100 * (i + 1) }, () => ops.fire(name, 'api', () => 'ok')),
      ),
    );
    await vi.waitFor(() => expect(flushed).toHaveLength(2), { timeout: 2000, interval: 5 });

    expect(transactions).toHaveBeenCalledTimes(1);
    expect(ops.sink!.stats.statements - before.statements).toBe(2);
    expect(flushed[1]).toEqual({ snapshots: 3, events: 0, statements: 2 });
    await Promise.all(Array.from({ length: 7 }, () => ops.fire(names[0]!, 'api', () => 'ok')));
    await vi.waitFor(() => expect(flushed).toHaveLength(3), { timeout: 2000, interval: 5 });

    expect(flushed[2]).toEqual({ snapshots: 1, events: 0, statements: 2 });
    expect(ops.sink!.stats.statements - before.statements).toBe(4);
    const totals = await Promise.all(names.map((name) => healthRow(store, name, 'api')));
    expect(totals.map((row) => row?.total_calls)).toEqual([107, 200, 300]);
    expect(totals.map((row) => row?.total_successes)).toEqual([107, 200, 300]);
  });

  it('writes a breaker opening promptly, but not on the caller’s stack', async () => {
    const { store } = database();
    const provider = uniqueProvider('prompt');
    const ops = openOps({
      store,
      providers: { [`${provider}/sms`]: { failureThreshold: 2 } },
      flushIntervalMs: 60_000,
    });
    await ops.start();
    const transactions = vi.spyOn(store, 'withRole');
    const fail = ops.wrap(provider, 'sms', async () => {
      throw new Error('twilio down');
    });

    await Promise.allSettled([fail(), fail()]);

    expect(ops.breakers.get(provider, 'sms')?.state).toBe('open');
    expect(transactions).not.toHaveBeenCalled();
    expect(ops.sink?.stats.events).toBe(0);
    const started = performance.now();
    await vi.waitFor(
      async () => {
        const rows = await eventRows(store, provider);
        expect(rows).toContainEqual(
          expect.objectContaining({ event_type: 'breaker_open', severity: 'error' }),
        );
      },
      { timeout: 2000, interval: 10 },
    );
    expect(await healthRow(store, provider, 'sms')).toMatchObject({
      circuit_breaker_state: 'open',
      circuit_breaker_failures: 2,
    });
  });

  it('persists the breaker’s counters after a run of mixed outcomes', async () => {
    const { store } = database();
    const provider = uniqueProvider('mixed');
    const ops = openOps({
      store,
      providers: {
        [`${provider}/payment`]: {
          failureThreshold: 3,
          resetTimeoutMs: 60_000,
          timeoutMs: 40,
          errorFilter: (error) => (error as { code?: string }).code === 'card_declined',
        },
      },
      flushIntervalMs: 50,
    });
    await ops.start();
    const pay = ops.wrap(provider, 'payment', async (outcome: string) => {
      if (outcome === 'declined') {
        throw Object.assign(new Error('declined'), { code: 'card_declined' });
      }
      if (outcome === 'fail') {
        throw new Error('stripe 503');
      }

      return outcome === 'slow' ? slowly(150, 'late') : 'charged';
    });
    const plan = ['ok', 'ok', 'declined', 'fail', 'ok', 'declined', 'ok', 'slow', 'fail', 'fail'];

    for (const [i, outcome] of plan.entries()) {
      await pay(outcome).catch(() => undefined);
      if (i % 3 === 0) {
        await sleep(60);
      }
    }
    const refused = await Promise.allSettled([pay('ok'), pay('ok'), pay('ok'), pay('ok')]);
    const counters = ops.breakers.get(provider, 'payment')!.snapshot().counters;
    await ops.close();

    expect(refused.every((r) => r.status === 'rejected')).toBe(true);
    expect(counters).toMatchObject({ fires: 14, timeouts: 1, rejects: 4 });
    expect(ops.sink!.stats.flushes).toBeGreaterThan(1);
    expect(await healthRow(store, provider, 'payment')).toMatchObject({
      circuit_breaker_state: 'open',
      total_calls: counters.fires,
      total_successes: counters.successes,
      total_failures: counters.failures,
      total_rejects: counters.rejects,
      total_timeouts: counters.timeouts,
    });
  });
});
