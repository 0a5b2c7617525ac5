import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { createOps, isBreakerOpenError, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { asRole } from './rotation-fixtures.js';

const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

interface Report {
  instance_id?: string;
  state: 'closed' | 'open' | 'half_open';
  status?: 'healthy' | 'degraded' | 'unhealthy';
  failures?: number;
  next_attempt?: string | null;
  calls?: number;
}

/** One instance's snapshot of `provider`/payment, as the store's writer sends it. */
function report(provider: string, r: Report) {
  return {
    provider_name: provider,
    service_type: 'payment',
    status: r.status ?? (r.state === 'open' ? 'unhealthy' : 'healthy'),
    circuit_breaker_state: r.state,
    circuit_breaker_failures: r.failures ?? 0,
    circuit_breaker_opened_at: r.state === 'open' ? new Date().toISOString() : null,
    circuit_breaker_next_attempt:
      r.state === 'open' ? (r.next_attempt ?? secondsFromNow(30)) : null,
    calls_delta: r.calls ?? 1,
    successes_delta: r.calls ?? 1,
    ...(r.instance_id ? { instance_id: r.instance_id, fresh_ms: 60_000 } : {}),
  };
}

async function send(store: M28Store, provider: string, ...reports: Report[]) {
  const snapshots = JSON.stringify(reports.map((r) => report(provider, r)));
  await asRole(store, 'm28_system', sql`select m28.record_provider_snapshots(${snapshots}::jsonb)`);
}

async function row(store: M28Store, provider: string) {
  const [health] = await store.query<{
    status: string;
    circuit_breaker_state: string;
    circuit_breaker_failures: number;
    total_calls: number;
  }>(sql`
    select status::text, circuit_breaker_state::text, circuit_breaker_failures,
      total_calls::int
    from m28.provider_health_status where provider_name = ${provider}`);

  return health;
}

describe.each(backends)('breaker state across instances on %s', (backend) => {
  const database = useDatabase(backend);
  const a = randomUUID();
  const b = randomUUID();

  it('shows the worst fresh breaker, not the last report', async () => {
    const { store } = database();
    const provider = `worst-${randomUUID().slice(0, 8)}`;

    await send(store, provider, { instance_id: a, state: 'open', failures: 5 });
    await send(store, provider, { instance_id: b, state: 'closed', calls: 3 });
    expect(await row(store, provider)).toEqual({
      status: 'unhealthy',
      circuit_breaker_state: 'open',
      circuit_breaker_failures: 5,
      total_calls: 4,
    });

    await send(store, provider, { instance_id: a, state: 'half_open', status: 'degraded' });
    expect(await row(store, provider)).toMatchObject({
      status: 'degraded',
      circuit_breaker_state: 'half_open',
    });

    await send(store, provider, { instance_id: a, state: 'closed' });
    expect(await row(store, provider)).toMatchObject({
      status: 'healthy',
      circuit_breaker_state: 'closed',
      total_calls: 6,
    });
  });

  it('leaves out a stale report, unless an open breaker still waits for its attempt', async () => {
    const { store } = database();
    const provider = `stale-${randomUUID().slice(0, 8)}`;
    await send(store, provider, { instance_id: a, state: 'half_open' });
    await send(store, provider, {
      instance_id: b,
      state: 'open',
      next_attempt: secondsFromNow(60),
    });
    await store.query(sql`update m28.provider_breaker_reports
      set fresh_until = now() - interval '1 second' where provider_name = ${provider}`);

    // b's open breaker counts until its next attempt; a's stale half-open does not.
    await send(store, provider, { instance_id: randomUUID(), state: 'closed' });
    expect(await row(store, provider)).toMatchObject({ circuit_breaker_state: 'open' });

    await store.query(sql`update m28.provider_breaker_reports
      set circuit_breaker_next_attempt = now() - interval '1 second'
      where provider_name = ${provider} and instance_id = ${b}`);
    await send(store, provider, { instance_id: randomUUID(), state: 'closed' });
    expect(await row(store, provider)).toMatchObject({ circuit_breaker_state: 'closed' });
  });

  it('keeps the last report when a snapshot names no instance', async () => {
    const { store } = database();
    const provider = `legacy-${randomUUID().slice(0, 8)}`;
    await send(store, provider, { state: 'open' });
    await send(store, provider, { state: 'closed' });

    expect(await row(store, provider)).toMatchObject({ circuit_breaker_state: 'closed' });
    const [count] = await store.query<{ n: number }>(sql`
      select count(*)::int as n from m28.provider_breaker_reports
      where provider_name = ${provider}`);
    expect(count?.n).toBe(0);
  });

  it('keeps a toggle’s status and forgets reports a day old', async () => {
    const { store } = database();
    const provider = `toggled-${randomUUID().slice(0, 8)}`;
    await send(store, provider, { instance_id: a, state: 'closed' });
    await store.query(sql`update m28.provider_breaker_reports
      set fresh_until = now() - interval '25 hours' where provider_name = ${provider}`);
    await asRole(
      store,
      'm28_admin',
      sql`select m28.toggle_provider(${provider}::text, 'payment'::text, false, 'incident'::text,
        'erin'::text, false, null::timestamptz, 'req-1'::text)`,
    );
    await send(store, provider, { instance_id: b, state: 'open' });

    expect(await row(store, provider)).toMatchObject({
      status: 'disabled',
      circuit_breaker_state: 'open',
    });
    const ids = await store.query<{ instance_id: string }>(sql`
      select instance_id from m28.provider_breaker_reports where provider_name = ${provider}`);
    expect(ids).toEqual([{ instance_id: b }]);
  });

  it('closes every instance’s report on a breaker reset', async () => {
    const { store } = database();
    const provider = `reset-${randomUUID().slice(0, 8)}`;
    await send(store, provider, { instance_id: a, state: 'open' });
    await send(store, provider, { instance_id: b, state: 'open' });
    await asRole(
      store,
      'm28_admin',
      sql`select m28.reset_circuit_breaker(${provider}::text, 'payment'::text, 'fixed'::text,
        'frank'::text, 'req-2'::text)`,
    );
    // A third instance reports before a and b have heard of the reset.
    await send(store, provider, { instance_id: randomUUID(), state: 'closed' });

    expect(await row(store, provider)).toMatchObject({ circuit_breaker_state: 'closed' });
  });

  it('lets the monitor read the reports, and not the client', async () => {
    const { store } = database();
    const provider = `rls-${randomUUID().slice(0, 8)}`;
    await send(store, provider, { instance_id: a, state: 'open' });
    const read = (role: 'm28_monitor' | 'm28_client') =>
      asRole(
        store,
        role,
        sql`select instance_id from m28.provider_breaker_reports
        where provider_name = ${provider}`,
      );

    await expect(read('m28_monitor')).resolves.toEqual([{ instance_id: a }]);
    await expect(read('m28_client')).rejects.toMatchObject({ code: 'M28_PERMISSION_DENIED' });
  });

  it('two instances on one database: a closed breaker does not hide an open one', async () => {
    const { store } = database();
    const provider = `pair-${randomUUID().slice(0, 8)}`;
    const options = {
      store,
      migrate: false,
      providers: { [`${provider}/payment`]: { failureThreshold: 2, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 60_000,
      pollIntervalMs: 60_000,
    };
    const failing = createOps(options);
    const fine = createOps(options);
    await failing.start();
    await fine.start();
    try {
      const bad = failing.wrap(provider, 'payment', async () => {
        throw new Error('provider down');
      });
      const good = fine.wrap(provider, 'payment', async () => 'ok');
      for (let i = 0; i < 3; i += 1) {
        await bad().catch((error: unknown) => error);
      }
      await expect(bad()).rejects.toSatisfy(isBreakerOpenError);
      await failing.sink!.flush();
      await expect(good()).resolves.toBe('ok');
      await fine.sink!.flush();

      expect(await row(store, provider)).toMatchObject({
        status: 'unhealthy',
        circuit_breaker_state: 'open',
      });
    } finally {
      await failing.close();
      await fine.close();
    }
  });
});
