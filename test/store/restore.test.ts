import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  isBreakerOpenError,
  isProviderDisabledError,
  isProviderInMaintenanceError,
  type BreakerOpenError,
  type M28Store,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { healthRow, sleep, uniqueProvider, useOps } from './sink-support.js';

function toggleInSql(
  store: M28Store,
  provider: string,
  service: string,
  change: { enabled: boolean; maintenance?: boolean; until?: Date },
) {
  return store.withRole('m28_admin', (tx) =>
    store.query(
      sql`select m28.toggle_provider(${provider}, ${service}, ${change.enabled},
        'restore test', 'oncall@example.com', ${change.maintenance ?? false},
        ${change.until?.toISOString() ?? null}::timestamptz)`,
      tx,
    ),
  );
}

describe.each(backends)('restoring providers on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  /** Opens `provider/payment`'s breaker in one facade, which then closes (and flushes). */
  async function openInAnotherInstance(provider: string, resetTimeoutMs: number) {
    const options = { failureThreshold: 2, resetTimeoutMs };
    const first = openOps({
      store: database().store,
      providers: { [`${provider}/payment`]: options },
      flushIntervalMs: 60_000,
    });
    await first.start();
    const fail = () => Promise.reject(new Error('stripe 503'));
    await first.fire(provider, 'payment', fail).catch(() => 0);
    await first.fire(provider, 'payment', fail).catch(() => 0);
    const circuit = first.breakers.get(provider, 'payment')!.circuit;
    await first.close();

    if (circuit.state !== 'open') {
      throw new Error(`expected the breaker open, got ${circuit.state}`);
    }

    return { options, nextAttemptAt: circuit.nextAttemptAt };
  }

  it('keeps an open breaker open until its stored next attempt', async () => {
    const { store } = database();
    const provider = uniqueProvider('restore_open');
    const { options, nextAttemptAt } = await openInAnotherInstance(provider, 1500);

    const second = openOps({ store, providers: { [`${provider}/payment`]: options } });
    await second.start();

    const circuit = second.breakers.get(provider, 'payment')!.circuit;
    expect(circuit).toMatchObject({ state: 'open' });
    expect(circuit.state === 'open' && circuit.nextAttemptAt.getTime()).toBe(
      nextAttemptAt.getTime(),
    );
    const refused = await second.fire(provider, 'payment', () => 'ok').catch((e: unknown) => e);
    expect(isBreakerOpenError(refused)).toBe(true);
    expect((refused as BreakerOpenError).nextAttemptAt?.getTime()).toBe(nextAttemptAt.getTime());
    expect(second.health({ provider }).providers[0]).toMatchObject({
      status: 'unhealthy',
      circuit_breaker_state: 'open',
      circuit_breaker_next_attempt: nextAttemptAt.toISOString(),
    });

    await sleep(Math.max(0, nextAttemptAt.getTime() - Date.now()) + 20);
    expect(await second.fire(provider, 'payment', () => 'ok')).toBe('ok');
    expect(second.breakers.get(provider, 'payment')?.state).toBe('closed');
  });

  it('starts half-open when the stored next attempt has passed', async () => {
    const { store } = database();
    const provider = uniqueProvider('restore_half');
    const { options } = await openInAnotherInstance(provider, 60_000);
    await store.query(sql`
      update m28.provider_health_status
      set circuit_breaker_next_attempt = now() - interval '1 minute'
      where provider_name = ${provider}`);

    const second = openOps({ store, providers: { [`${provider}/payment`]: options } });
    await second.start();

    expect(second.breakers.get(provider, 'payment')?.circuit).toEqual({
      state: 'half_open',
      trialsInFlight: 0,
    });
    expect(await second.fire(provider, 'payment', () => 'ok')).toBe('ok');
    expect(second.breakers.get(provider, 'payment')?.state).toBe('closed');
  });

  it('starts closed, with the stored failure count, for a closed breaker', async () => {
    const { store } = database();
    const provider = uniqueProvider('restore_closed');
    const first = openOps({ store, providers: { [`${provider}/api`]: { failureThreshold: 3 } } });
    await first.start();
    await first.fire(provider, 'api', () => Promise.reject(new Error('x'))).catch(() => 0);
    await first.fire(provider, 'api', () => Promise.reject(new Error('x'))).catch(() => 0);
    await first.close();
    expect(await healthRow(store, provider, 'api')).toMatchObject({
      circuit_breaker_state: 'closed',
      circuit_breaker_failures: 2,
    });

    const second = openOps({ store, providers: { [`${provider}/api`]: { failureThreshold: 3 } } });
    await second.start();
    await second.fire(provider, 'api', () => Promise.reject(new Error('x'))).catch(() => 0);

    expect(second.breakers.get(provider, 'api')?.state).toBe('open');
  });

  it('applies the toggles stored in provider_config on start', async () => {
    const { store } = database();
    const disabled = uniqueProvider('restore_disabled');
    const maintained = uniqueProvider('restore_maintenance');
    const until = new Date(Date.now() + 3_600_000);
    await toggleInSql(store, disabled, 'sms', { enabled: false });
    await toggleInSql(store, maintained, 'sms', { enabled: true, maintenance: true, until });

    const ops = openOps({
      store,
      providers: { [`${disabled}/sms`]: {}, [`${maintained}/sms`]: {} },
    });
    await ops.start();

    const blocked = await ops.fire(disabled, 'sms', () => 'sent').catch((e: unknown) => e);
    expect(isProviderDisabledError(blocked)).toBe(true);
    const paused = await ops.fire(maintained, 'sms', () => 'sent').catch((e: unknown) => e);
    expect(isProviderInMaintenanceError(paused)).toBe(true);
    expect(ops.health().providers.map((p) => [p.provider, p.status, p.maintenance_until])).toEqual(
      expect.arrayContaining([
        [disabled, 'disabled', null],
        [maintained, 'maintenance', until.toISOString()],
      ]),
    );
  });
});
