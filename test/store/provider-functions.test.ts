import { randomUUID } from 'node:crypto';

import type { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

import { PermissionDeniedError, ValidationError, type M28Store } from '../../src/index.js';
import { backends, useDatabase, type TestDatabase } from '../support/databases.js';
import { asRole, tableCounts } from './rotation-fixtures.js';

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

interface Toggle {
  provider_name?: string | null;
  service_type?: string | null;
  enabled?: boolean | null;
  reason?: string | null;
  toggled_by?: string | null;
  maintenance_mode?: boolean | null;
  maintenance_until?: string | null;
}

/** A toggle_provider call; a left-out argument gets a valid value, an explicit null stays. */
function toggleSql(t: Toggle): SQL {
  const { service_type = 'payment', reason = 'error rate 40%', toggled_by = 'erin' } = t;
  const { enabled = null, maintenance_mode = false, maintenance_until = null } = t;

  return sql`select m28.toggle_provider(${t.provider_name}::text, ${service_type}::text,
    ${enabled}::boolean, ${reason}::text, ${toggled_by}::text, ${maintenance_mode}::boolean,
    ${maintenance_until}::timestamptz, 'req-t'::text)::text as status`;
}

const resetSql = (provider: string, reason = 'fixed upstream', resetBy = 'frank') =>
  sql`select m28.reset_circuit_breaker(${provider}::text, 'payment'::text, ${reason}::text,
    ${resetBy}::text, 'req-r'::text)::text as status`;

async function run(store: M28Store, query: SQL): Promise<string> {
  const [row] = await asRole<{ status: string }>(store, 'm28_admin', query);

  return row!.status;
}

async function health(store: M28Store, provider: string) {
  const [row] = await store.query<Record<string, unknown>>(sql`
    select status::text, enabled, maintenance_mode, circuit_breaker_state::text,
      circuit_breaker_failures, circuit_breaker_opened_at, circuit_breaker_next_attempt
    from m28.provider_health_status where provider_name = ${provider}`);

  return row;
}

async function config(store: M28Store, provider: string) {
  return store.query<Record<string, unknown>>(sql`
    select id::text, enabled, maintenance_mode, maintenance_until is not null as has_until,
      reason, toggled_by, toggled_at is not null as toggled
    from m28.provider_config where provider_name = ${provider}`);
}

async function events(store: M28Store, provider: string) {
  return store.query<Record<string, unknown>>(sql`
    select service_type, event_type, severity::text, actor, request_id
    from m28.provider_operational_events where provider_name = ${provider} order by id`);
}

async function audits(store: M28Store, provider: string) {
  const rows = await store.query<{ action: string; meta: string }>(sql`
    select actor, action, entity, reason, request_id, db_role, meta::text as meta
    from m28.audit_log where meta->>'provider' = ${provider} order by id`);

  return rows.map((row) => ({ ...row, meta: JSON.parse(row.meta) as Record<string, unknown> }));
}

/** Listens on m28_changes through a connection of its own (PostgreSQL) or PGlite's one. */
async function listen(database: TestDatabase) {
  const payloads: string[] = [];
  if (database.url) {
    const client = postgres(database.url, { max: 1, onnotice: () => {} });
    await client.listen('m28_changes', (payload) => payloads.push(payload));

    return { payloads, stop: () => client.end({ timeout: 5 }) };
  }
  const pglite = (database.store.db as unknown as { $client: PGlite }).$client;
  const unlisten = await pglite.listen('m28_changes', (payload) => payloads.push(payload));

  return { payloads, stop: () => unlisten() };
}

async function waitFor<T>(find: () => T | undefined): Promise<T | undefined> {
  for (let i = 0; i < 100 && find() === undefined; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return find();
}

describe.each(backends)('provider functions on %s', (backend) => {
  const database = useDatabase(backend);
  const newProvider = () => `stripe_${randomUUID().slice(0, 8)}`;

  describe('toggle_provider', () => {
    it('disables a provider: config upserted, a warning event, one audit row', async () => {
      const { store } = database();
      const p = newProvider();

      expect(await run(store, toggleSql({ provider_name: p, enabled: false }))).toBe('disabled');

      expect(await health(store, p)).toMatchObject({ status: 'disabled', enabled: false });
      expect(await config(store, p)).toEqual([
        expect.objectContaining({ enabled: false, reason: 'error rate 40%', toggled_by: 'erin' }),
      ]);
      expect(await events(store, p)).toEqual([
        {
          service_type: 'payment',
          event_type: 'toggle',
          severity: 'warning',
          actor: 'erin',
          request_id: 'req-t',
        },
      ]);
      expect(await audits(store, p)).toEqual([
        {
          actor: 'erin',
          action: 'provider.toggle',
          entity: 'provider_config',
          reason: 'error rate 40%',
          request_id: 'req-t',
          db_role: 'm28_admin',
          meta: expect.objectContaining({
            before: expect.objectContaining({ enabled: true, status: 'healthy' }),
            after: expect.objectContaining({ enabled: false, status: 'disabled' }),
          }),
        },
      ]);
    });

    it('returns a re-enabled provider to healthy, updating the same config row', async () => {
      const { store } = database();
      const p = newProvider();
      await run(store, toggleSql({ provider_name: p, enabled: false }));
      const [first] = await config(store, p);

      expect(await run(store, toggleSql({ provider_name: p, enabled: true }))).toBe('healthy');

      expect(await health(store, p)).toMatchObject({ status: 'healthy', enabled: true });
      expect(await config(store, p)).toEqual([
        expect.objectContaining({ id: first!.id, enabled: true }),
      ]);
      expect((await events(store, p)).map((e) => [e.event_type, e.severity])).toEqual([
        ['toggle', 'warning'],
        ['toggle', 'info'],
      ]);
      expect(await audits(store, p)).toHaveLength(2);
    });

    it('starts and ends maintenance with their own events', async () => {
      const { store } = database();
      const p = newProvider();
      const until = hoursFromNow(2);

      const during = await run(
        store,
        toggleSql({
          provider_name: p,
          enabled: true,
          maintenance_mode: true,
          maintenance_until: until,
        }),
      );
      expect(during).toBe('maintenance');
      expect(await health(store, p)).toMatchObject({
        status: 'maintenance',
        maintenance_mode: true,
      });
      expect((await config(store, p))[0]).toMatchObject({
        maintenance_mode: true,
        has_until: true,
      });

      expect(await run(store, toggleSql({ provider_name: p, enabled: true }))).toBe('healthy');

      expect((await config(store, p))[0]).toMatchObject({
        maintenance_mode: false,
        has_until: false,
      });
      expect((await events(store, p)).map((e) => [e.event_type, e.severity])).toEqual([
        ['maintenance_start', 'info'],
        ['maintenance_end', 'info'],
      ]);
      expect((await audits(store, p))[1]?.meta).toMatchObject({
        before: { maintenance_mode: true, status: 'maintenance' },
        after: { maintenance_mode: false, maintenance_until: null, status: 'healthy' },
      });
    });

    it('notifies m28_changes with a JSON payload naming the provider', async () => {
      const db = database();
      const p = newProvider();
      const listener = await listen(db);

      try {
        await run(db.store, toggleSql({ provider_name: p, enabled: false }));
        const payload = await waitFor(() => listener.payloads.find((x) => x.includes(p)));

        expect(JSON.parse(payload ?? 'null')).toMatchObject({
          kind: 'provider',
          provider_name: p,
          service_type: 'payment',
          enabled: false,
          maintenance_mode: false,
        });
      } finally {
        await listener.stop();
      }
    });

    it.each<[string, Toggle]>([
      ['provider_name', { provider_name: '' }],
      ['provider_name', { provider_name: null }],
      ['service_type', { service_type: 'x'.repeat(101) }],
      ['enabled', { enabled: null }],
      ['reason', { reason: '' }],
      ['toggled_by', { toggled_by: ' ' }],
      ['maintenance_mode', { maintenance_mode: null }],
      ['maintenance_until', { maintenance_mode: true, maintenance_until: hoursFromNow(-1) }],
      ['maintenance_until', { maintenance_until: hoursFromNow(1) }],
    ])('rejects a bad %s with a ValidationError and changes no row', async (field, bad) => {
      const { store } = database();
      const before = await tableCounts(store);

      const error = await run(
        store,
        toggleSql({ provider_name: newProvider(), enabled: false, ...bad }),
      ).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.field).toBe(field);
      expect(await tableCounts(store)).toEqual(before);
    });

    it('refuses m28_monitor with PermissionDeniedError', async () => {
      const { store } = database();
      const p = newProvider();

      const error = await asRole(
        store,
        'm28_monitor',
        toggleSql({ provider_name: p, enabled: false }),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(error).toMatchObject({ code: 'M28_PERMISSION_DENIED' });
      expect(await config(store, p)).toEqual([]);
    });
  });

  describe('reset_circuit_breaker', () => {
    it('closes an open breaker: zero failures, a breaker_reset event, an audit row', async () => {
      const { store } = database();
      const p = newProvider();
      await run(store, toggleSql({ provider_name: p, enabled: true }));
      await store.query(sql`
        update m28.provider_health_status set status = 'unhealthy',
          circuit_breaker_state = 'open', circuit_breaker_failures = 7,
          circuit_breaker_opened_at = now(), circuit_breaker_next_attempt = now() + interval '5 min'
        where provider_name = ${p}`);

      expect(await run(store, resetSql(p))).toBe('healthy');

      expect(await health(store, p)).toMatchObject({
        status: 'healthy',
        circuit_breaker_state: 'closed',
        circuit_breaker_failures: 0,
        circuit_breaker_opened_at: null,
        circuit_breaker_next_attempt: null,
      });
      expect((await events(store, p)).at(-1)).toMatchObject({
        event_type: 'breaker_reset',
        severity: 'warning',
        actor: 'frank',
        request_id: 'req-r',
      });
      expect((await audits(store, p)).at(-1)).toMatchObject({
        actor: 'frank',
        action: 'provider.reset_circuit_breaker',
        entity: 'provider_health_status',
        reason: 'fixed upstream',
        db_role: 'm28_admin',
        meta: {
          before: {
            circuit_breaker_state: 'open',
            circuit_breaker_failures: 7,
            status: 'unhealthy',
          },
          after: {
            circuit_breaker_state: 'closed',
            circuit_breaker_failures: 0,
            status: 'healthy',
          },
        },
      });
    });

    it('keeps a disabled provider disabled', async () => {
      const { store } = database();
      const p = newProvider();
      await run(store, toggleSql({ provider_name: p, enabled: false }));

      expect(await run(store, resetSql(p))).toBe('disabled');
      expect(await health(store, p)).toMatchObject({ status: 'disabled', enabled: false });
    });

    it.each([
      ['provider_name', () => resetSql('')],
      ['reason', () => resetSql(newProvider(), ' ')],
      ['reset_by', () => resetSql(newProvider(), 'fixed', '')],
    ])('rejects a bad %s with a ValidationError and changes no row', async (field, query) => {
      const { store } = database();
      const before = await tableCounts(store);

      const error = await run(store, query()).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.field).toBe(field);
      expect(await tableCounts(store)).toEqual(before);
    });

    it('refuses m28_monitor with PermissionDeniedError', async () => {
      const { store } = database();

      await expect(asRole(store, 'm28_monitor', resetSql(newProvider()))).rejects.toBeInstanceOf(
        PermissionDeniedError,
      );
    });
  });
});
