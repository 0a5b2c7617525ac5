import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { createOps, isBreakerOpenError, type M28Role, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { asRole } from './rotation-fixtures.js';

/** One instance's snapshot of `provider`/payment, as the store's writer sends it. */
function report(provider: string, instanceId: string, state: 'open' | 'closed') {
  const open = state === 'open';

  return {
    provider_name: provider,
    service_type: 'payment',
    status: open ? 'unhealthy' : 'healthy',
    circuit_breaker_state: state,
    circuit_breaker_failures: open ? 5 : 0,
    circuit_breaker_opened_at: open ? new Date().toISOString() : null,
    circuit_breaker_next_attempt: open ? new Date(Date.now() + 60_000).toISOString() : null,
    calls_delta: 1,
    successes_delta: 0,
    instance_id: instanceId,
    fresh_ms: 60_000,
  };
}

async function send(
  store: M28Store,
  provider: string,
  instanceId: string,
  state: 'open' | 'closed',
) {
  const snapshots = JSON.stringify([report(provider, instanceId, state)]);
  await asRole(store, 'm28_system', sql`select m28.record_provider_snapshots(${snapshots}::jsonb)`);
}

/** A new provider whose breaker one instance reports open. */
async function openedProvider(store: M28Store): Promise<string> {
  const provider = `upd-${randomUUID().slice(0, 8)}`;
  await send(store, provider, randomUUID(), 'open');

  return provider;
}

/** The spec's runbook "force circuit breaker reset", for `provider`, as `role`. */
async function forceReset(store: M28Store, role: M28Role, provider: string, actor?: string) {
  await store.withRole(role, async (tx) => {
    if (actor) {
      await store.query(sql`select set_config('m28.actor', ${actor}, true)`, tx);
    }
    await store.query(
      sql`update m28.provider_health_status
        set circuit_breaker_state = 'closed', circuit_breaker_failures = 0, status = 'healthy'
        where provider_name = ${provider} and service_type = 'payment'`,
      tx,
    );
  });
}

async function state(store: M28Store, provider: string) {
  const [health] = await store.query<Record<string, unknown>>(sql`
    select circuit_breaker_state::text as state, circuit_breaker_opened_at as opened_at,
      circuit_breaker_next_attempt as next_attempt
    from m28.provider_health_status where provider_name = ${provider}`);
  const reports = await store.query<{ state: string }>(sql`
    select circuit_breaker_state::text as state from m28.provider_breaker_reports
    where provider_name = ${provider} order by instance_id`);
  const events = await store.query<{ event_type: string; actor: string }>(sql`
    select event_type, actor from m28.provider_operational_events
    where provider_name = ${provider} and event_type = 'breaker_reset'`);
  const audit = await store.query<{ actor: string; db_role: string; after: unknown }>(sql`
    select actor, db_role, meta -> 'after' as after from m28.audit_log
    where action = 'provider.reset_circuit_breaker' and meta ->> 'provider' = ${provider}`);

  return { health, reports: reports.map((r) => r.state), events, audit };
}

describe.each(backends)("the runbook's force-reset UPDATE on %s", (backend) => {
  const database = useDatabase(backend);

  it('closes every instance’s report, so that the next flush keeps it closed', async () => {
    const { store } = database();
    const provider = await openedProvider(store);
    await send(store, provider, randomUUID(), 'open');

    await forceReset(store, 'm28_admin', provider, 'alice');
    // A third instance reports before the other two have heard of the reset.
    await send(store, provider, randomUUID(), 'closed');

    const after = await state(store, provider);
    expect(after.health).toEqual({ state: 'closed', opened_at: null, next_attempt: null });
    expect(after.reports).toEqual(['closed', 'closed', 'closed']);
    expect(after.events).toEqual([{ event_type: 'breaker_reset', actor: 'alice' }]);
    expect(after.audit).toEqual([
      {
        actor: 'alice',
        db_role: 'm28_admin',
        after: { circuit_breaker_state: 'closed', circuit_breaker_failures: 0, status: 'healthy' },
      },
    ]);
  });

  it('records the login as the actor when the session named none', async () => {
    const { store } = database();
    const provider = await openedProvider(store);
    const [{ login } = { login: '' }] = await store.query<{ login: string }>(
      sql`select session_user::text as login`,
    );

    await forceReset(store, 'm28_superadmin', provider);

    expect((await state(store, provider)).audit).toMatchObject([
      { actor: login, db_role: 'm28_superadmin' },
    ]);
  });

  it('keeps a disabled provider disabled, as the reset function does', async () => {
    const { store } = database();
    const provider = await openedProvider(store);
    await asRole(
      store,
      'm28_admin',
      sql`select m28.toggle_provider(${provider}::text, 'payment'::text, false, 'incident'::text,
        'alice'::text)`,
    );

    await forceReset(store, 'm28_admin', provider, 'alice');

    const [row] = await store.query<{ status: string; enabled: boolean }>(sql`
      select status::text, enabled from m28.provider_health_status
      where provider_name = ${provider}`);
    expect(row).toEqual({ status: 'disabled', enabled: false });
    expect((await state(store, provider)).audit).toMatchObject([
      { after: { circuit_breaker_state: 'closed', status: 'disabled' } },
    ]);
  });

  it('leaves the reset function to itself: one event and one audit row', async () => {
    const { store } = database();
    const provider = await openedProvider(store);

    await asRole(
      store,
      'm28_admin',
      sql`select m28.reset_circuit_breaker(${provider}::text, 'payment'::text, 'fixed'::text,
        'frank'::text)`,
    );

    const after = await state(store, provider);
    expect(after.events).toEqual([{ event_type: 'breaker_reset', actor: 'frank' }]);
    expect(after.audit).toMatchObject([{ actor: 'frank' }]);
  });

  it('leaves the library’s own writes alone: a breaker that closes is no reset', async () => {
    const { store } = database();
    const provider = `upd-${randomUUID().slice(0, 8)}`;
    const instance = randomUUID();
    await send(store, provider, instance, 'open');

    await send(store, provider, instance, 'closed');

    const after = await state(store, provider);
    expect(after.health).toMatchObject({ state: 'closed' });
    expect(after.events).toEqual([]);
    expect(after.audit).toEqual([]);
  });

  it('is refused to the monitor, and changes nothing', async () => {
    const { store } = database();
    const provider = await openedProvider(store);

    await expect(forceReset(store, 'm28_monitor', provider)).rejects.toMatchObject({
      code: 'M28_PERMISSION_DENIED',
    });

    const after = await state(store, provider);
    expect(after.health).toMatchObject({ state: 'open' });
    expect(after.reports).toEqual(['open']);
    expect(after.events).toEqual([]);
  });

  it('closes the breaker of a running instance', async () => {
    const { store } = database();
    const provider = `upd-${randomUUID().slice(0, 8)}`;
    const ops = createOps({
      store,
      migrate: false,
      providers: { [`${provider}/payment`]: { failureThreshold: 2, resetTimeoutMs: 60_000 } },
      pollIntervalMs: 100,
    });
    await ops.start();
    try {
      const pay = ops.wrap(provider, 'payment', async () => {
        throw new Error('provider down');
      });
      for (let i = 0; i < 2; i += 1) {
        await pay().catch((error: unknown) => error);
      }
      await expect(pay()).rejects.toSatisfy(isBreakerOpenError);
      await ops.sink!.flush();

      await forceReset(store, 'm28_admin', provider, 'alice');

      await expect
        .poll(() => ops.breakers.get(provider, 'payment')?.state, { timeout: 2000 })
        .toBe('closed');
    } finally {
      await ops.close();
    }
  });
});
