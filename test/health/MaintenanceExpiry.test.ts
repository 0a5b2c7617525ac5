import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MaintenanceExpiry } from '../../src/health/MaintenanceExpiry.js';
import type { M28Store } from '../../src/store/M28Store.js';
import { FAKE_TIMERS } from './support.js';

const DAY_MS = 86_400_000;
const dialect = new PgDialect();

/** A store whose database ends maintenance only once `dbNow` has passed `until`. */
function stubStore(state: { until: Date | null; dbNow: () => number }) {
  const queries: string[] = [];
  const store = {
    withRole: vi.fn((_role: string, work: (tx: unknown) => Promise<unknown>) => work({})),
    query: vi.fn(async (query: SQL) => {
      const text = dialect.sqlToQuery(query).sql;
      queries.push(text.includes('end_expired_maintenance') ? 'end' : 'reload');
      if (text.includes('end_expired_maintenance')) {
        if (!state.until || state.until.getTime() > state.dbNow()) {
          return [];
        }
        state.until = null;

        return [{ provider_name: 'stripe', service_type: 'payment' }];
      }

      return [
        {
          enabled: true,
          maintenance_mode: state.until !== null,
          maintenance_until: state.until?.toISOString() ?? null,
        },
      ];
    }),
  };

  return { store: store as unknown as M28Store, queries };
}

describe('MaintenanceExpiry', () => {
  beforeEach(() => {
    vi.useFakeTimers(FAKE_TIMERS);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(until: Date, dbNow = () => Date.now()) {
    const state = { until: until as Date | null, dbNow };
    const { store, queries } = stubStore(state);
    let held: Date | null = until;
    const applied: { maintenanceMode: boolean; origin: string }[] = [];
    const expiry = new MaintenanceExpiry(store, {
      untilOf: () => held,
      apply: (_p, _s, toggle, meta) => {
        applied.push({ maintenanceMode: toggle.maintenanceMode, origin: meta.origin });
        held = toggle.maintenanceMode ? toggle.maintenanceUntil : null;
      },
      error: () => undefined,
    });
    expiry.arm('stripe', 'payment', until);

    return { expiry, queries, applied, state };
  }

  it('ends the window when it passes, once', async () => {
    const { queries, applied } = setup(new Date(Date.now() + 5000));

    await vi.advanceTimersByTimeAsync(4999);
    expect(queries).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);

    expect(queries).toEqual(['end']);
    expect(applied).toEqual([{ maintenanceMode: false, origin: 'local' }]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queries).toEqual(['end']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits out a window longer than a Node timer can', async () => {
    const { queries } = setup(new Date(Date.now() + 30 * DAY_MS));

    await vi.advanceTimersByTimeAsync(1000);
    expect(queries).toEqual([]);
    await vi.advanceTimersByTimeAsync(29 * DAY_MS);
    expect(queries).toEqual([]);

    await vi.advanceTimersByTimeAsync(DAY_MS);
    expect(queries).toEqual(['end']);
  });

  it('asks again while the database clock is behind', async () => {
    const lag = 2500;
    const { queries, applied } = setup(new Date(Date.now() + 1000), () => Date.now() - lag);

    await vi.advanceTimersByTimeAsync(1000);
    expect(queries).toEqual(['end', 'reload']);
    expect(applied).toEqual([{ maintenanceMode: true, origin: 'remote' }]);

    await vi.advanceTimersByTimeAsync(3000);
    expect(queries).toEqual(['end', 'reload', 'end', 'reload', 'end', 'reload', 'end']);
    expect(applied.at(-1)).toEqual({ maintenanceMode: false, origin: 'local' });
  });

  it('stops asking when the window was ended elsewhere', async () => {
    const { queries, applied, state } = setup(new Date(Date.now() + 1000));
    state.until = null;

    await vi.advanceTimersByTimeAsync(10_000);

    expect(queries).toEqual(['end', 'reload']);
    expect(applied).toEqual([{ maintenanceMode: false, origin: 'remote' }]);
  });

  it('sets no timer once stopped, until resumed', async () => {
    const { expiry, queries } = setup(new Date(Date.now() + 1000));

    expiry.stop();
    expiry.arm('stripe', 'payment', new Date(Date.now() + 1000));
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(queries).toEqual([]);

    expiry.resume();
    expiry.arm('stripe', 'payment', new Date(Date.now() + 1000));
    await vi.advanceTimersByTimeAsync(1000);
    expect(queries).toEqual(['end']);
  });
});
