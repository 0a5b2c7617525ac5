import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { M28DatabaseError, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { countByType, eventRows, uniqueProvider, useOps } from '../store/sink-support.js';
import { expectedRows, expectPrompt, record, transitionsOf } from './support.js';

const CHECKS = 12;
const CALLS = 200;

/** A way to make every operational event write fail, and the error the sink then reports. */
const FAULTS = [
  {
    name: 'a trigger refuses event rows',
    install: [
      `create or replace function public.fault_refuse_event() returns trigger
        language plpgsql as $$ begin raise exception 'fault injected: events refused'; end $$`,
      `create trigger fault_refuse_event before insert on m28.provider_operational_events
        for each row execute function public.fault_refuse_event()`,
    ],
    remove: ['drop trigger if exists fault_refuse_event on m28.provider_operational_events'],
    error: { code: 'M28_DATABASE', sqlState: 'P0001' },
  },
  {
    name: 'm28_system lost INSERT on the events table',
    install: ['revoke insert on m28.provider_operational_events from m28_system'],
    remove: ['grant insert on m28.provider_operational_events to m28_system'],
    error: { code: 'M28_PERMISSION_DENIED', sqlState: '42501' },
  },
];

// Bound 1: fewer than the transitions, which the buffer then keeps beyond it.
const CASES = [...FAULTS.map((fault) => ({ ...fault, bound: 5 })), { ...FAULTS[0]!, bound: 1 }];

async function run(store: M28Store, statements: readonly string[]) {
  for (const statement of statements) {
    await store.query(sql.raw(statement));
  }
}

describe.each(backends)('Operational events fail open on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();
  let removeFault: string[] = [];

  afterEach(async () => {
    await run(database().store, removeFault.splice(0));
  });

  it.each(CASES)('when $name, bound $bound: calls go on, checks drop', async (fault) => {
    const { store } = database();
    const checked = uniqueProvider('checked');
    const tripped = uniqueProvider('tripped');
    const busy = uniqueProvider('busy');
    const ops = openOps({
      store,
      providers: {
        [`${checked}/api`]: { failureThreshold: 1000, check: () => false },
        [`${tripped}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 },
        [`${busy}/api`]: {},
      },
      intervalMs: 3_600_000,
      flushIntervalMs: 50,
      pollIntervalMs: 60_000,
      maxBufferedEvents: fault.bound,
    });
    await ops.start();
    const seen = record(ops);
    removeFault = [...fault.remove];
    await run(store, fault.install);

    // Calls go on, at full speed, whatever the writes do.
    const call = ops.wrap(busy, 'api', async (n: number) => n + 1);
    const latencies: number[] = [];
    for (let i = 0; i < CALLS; i += 1) {
      const started = performance.now();
      expect(await call(i)).toBe(i + 1);
      latencies.push(performance.now() - started);
    }
    const down = await ops
      .fire(tripped, 'api', () => Promise.reject(new Error('down')))
      .catch((error: unknown) => error);
    for (let i = 0; i < CHECKS; i += 1) {
      await ops.monitor.check(checked, 'api');
    }
    // One more flush after the last event: its failure puts the batch back and trims it.
    const last = await ops.sink!.flush().then(
      () => undefined,
      (error: unknown) => error,
    );

    // The provider's own error, unchanged: not a store error.
    expect(down).toEqual(new Error('down'));
    if (backend === 'postgres') {
      // PGlite runs in this thread: its flushes, failing or not, hold up the event loop.
      expectPrompt(latencies);
    }
    expect(last).toBeInstanceOf(M28DatabaseError);
    expect(last).toMatchObject(fault.error);
    // The loop tries again on its own, after its backoff, and reports each failure.
    await vi.waitFor(() => expect(seen.errors.length).toBeGreaterThan(0), { timeout: 5000 });
    for (const error of seen.errors) {
      expect(error).toBeInstanceOf(M28DatabaseError);
      expect(error).toMatchObject(fault.error);
    }

    // Check failures past the bound are dropped, oldest first; transitions never.
    const transitions = transitionsOf(seen);
    expect(seen.health_check_failed).toBe(CHECKS);
    expect(seen.breaker_open).toBe(1);
    const kept = Math.min(CHECKS, Math.max(0, fault.bound - transitions));
    const dropped = CHECKS - kept;
    expect(dropped).toBeGreaterThan(0);
    if (fault.bound === 1) {
      expect(transitions).toBeGreaterThan(fault.bound);
      expect(dropped).toBe(CHECKS);
    }
    expect(seen.dropped.reduce((sum, event) => sum + event.events, 0)).toBe(dropped);
    expect(seen.dropped.at(-1)?.totalDropped).toBe(dropped);
    expect(ops.sink?.stats.dropped).toBe(dropped);
    // Nothing got through. (A flush of snapshots alone may have committed before the fault.)
    expect(ops.sink?.stats.events).toBe(0);

    // Once events can be written again, what was kept is written, once.
    await run(store, removeFault.splice(0));
    await ops.sink!.flush();
    await ops.sink!.flush();
    const rows = [
      ...(await eventRows(store, checked)),
      ...(await eventRows(store, tripped)),
      ...(await eventRows(store, busy)),
    ];
    expect(countByType(rows)).toEqual(expectedRows(seen, kept));
    expect(ops.sink?.stats).toMatchObject({ events: transitions + kept, dropped });
  });
});
