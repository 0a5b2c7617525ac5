import { describe, expect, it, vi } from 'vitest';

import type { M28Database, M28Role, StoreSinkEvents } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { countByType, eventRows, uniqueProvider, useOps } from './sink-support.js';

type Dropped = Parameters<StoreSinkEvents['store:dropped']>[0];

// Mirrors the sink's rules: which events it buffers, and which it may drop.
const REFUSED = new Set(['circuit_breaker_open', 'disabled', 'maintenance']);
const DERIVED = new Set(['healthy', 'degraded', 'unhealthy']);

const QUIET = { breakerTrips: { enabled: false }, healthCheckFailures: { enabled: false } };
describe.each(backends)('StoreSink retries on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it('writes the events of a flush that failed once, exactly once', async () => {
    const { store } = database();
    const provider = uniqueProvider('retry');
    const ops = openOps({
      // Alert rows are not what this test counts.
      alerts: QUIET,
      store,
      providers: { [`${provider}/email`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 60_000,
    });
    const errors: Error[] = [];
    ops.on('error', (error) => errors.push(error));
    await ops.start();
    vi.spyOn(store, 'withRole').mockRejectedValueOnce(new Error('connection reset'));

    await ops.fire(provider, 'email', () => Promise.reject(new Error('smtp down'))).catch(() => 0);

    // The prompt flush fails; after its backoff, the loop tries again and succeeds.
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(['connection reset']));
    await vi.waitFor(() => expect(ops.sink?.stats.flushes).toBe(1), { timeout: 3000 });
    await ops.sink?.flush();
    const rows = await eventRows(store, provider);
    expect(countByType(rows)).toEqual({ breaker_open: 1, status_change: 1 });
    expect(ops.sink?.stats).toMatchObject({ failures: 1, flushes: 1, events: 2 });
  });

  it('writes each event once when a committed flush is sent again', async () => {
    const { store } = database();
    const provider = uniqueProvider('ack');
    const ops = openOps({
      // Alert rows are not what this test counts.
      alerts: QUIET,
      store,
      providers: { [`${provider}/push`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 60_000,
    });
    await ops.start();
    const withRole = store.withRole.bind(store);
    // The transaction commits, but its acknowledgement is lost on the way back.
    vi.spyOn(store, 'withRole').mockImplementationOnce(
      async (role: M28Role, work: (tx: M28Database) => Promise<unknown>) => {
        await withRole(role, work);
        throw new Error('connection lost after commit');
      },
    );

    await ops.fire(provider, 'push', () => Promise.reject(new Error('fcm down'))).catch(() => 0);
    await expect(ops.sink!.flush()).rejects.toThrow('connection lost after commit');
    const afterFirst = await eventRows(store, provider);
    await ops.sink!.flush();
    const afterRetry = await eventRows(store, provider);

    expect(afterFirst).toHaveLength(2);
    expect(afterRetry).toEqual(afterFirst);
    expect(new Set(afterRetry.map((row) => row.event_key)).size).toBe(2);
  });

  it('drops the oldest check failures past the bound, and never a transition', async () => {
    const { store } = database();
    const checked = uniqueProvider('bound_checked');
    const called = uniqueProvider('bound_called');
    const ops = openOps({
      // Alert rows are not what this test counts.
      alerts: QUIET,
      store,
      providers: {
        [`${checked}/api`]: { failureThreshold: 1000, check: () => false },
        [`${called}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 },
      },
      intervalMs: 3_600_000,
      flushIntervalMs: 50,
      maxBufferedEvents: 5,
    });
    await ops.start();
    let checkFailures = 0;
    let transitions = 0;
    const dropped: Dropped[] = [];
    ops.on('health:checked', (r) => {
      checkFailures += !r.passed && !REFUSED.has(r.reason ?? '') ? 1 : 0;
    });
    ops.on('provider:status', (e) => {
      transitions += DERIVED.has(e.from) && DERIVED.has(e.to) ? 1 : 0;
    });
    ops.on('breaker:open', () => (transitions += 1));
    ops.on('breaker:half_open', () => (transitions += 1));
    ops.on('breaker:close', () => (transitions += 1));
    ops.on('store:dropped', (event) => dropped.push(event));
    const errors: Error[] = [];
    ops.on('error', (error) => errors.push(error));
    const spy = vi.spyOn(store, 'withRole').mockRejectedValue(new Error('database down'));

    await ops.fire(called, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);
    for (let i = 0; i < 12; i += 1) {
      await ops.monitor.check(checked, 'api');
    }
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
    spy.mockRestore();

    expect(checkFailures).toBe(12);
    expect(transitions).toBeGreaterThanOrEqual(2);
    expect(transitions).toBeLessThanOrEqual(5);
    const kept = 5 - transitions;
    const expectedDropped = checkFailures - kept;
    expect(dropped.reduce((sum, event) => sum + event.events, 0)).toBe(expectedDropped);
    expect(dropped.at(-1)?.totalDropped).toBe(expectedDropped);
    expect(ops.sink?.stats.dropped).toBe(expectedDropped);

    await vi.waitFor(() => expect(ops.sink?.stats.events).toBe(5), { timeout: 8000 });
    const rows = [...(await eventRows(store, checked)), ...(await eventRows(store, called))];
    const counts = countByType(rows);
    expect(counts.health_check_failed).toBe(kept);
    expect(rows.length - kept).toBe(transitions);
    expect(counts.breaker_open).toBe(1);
  });
});
