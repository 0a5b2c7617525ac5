import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { isPermissionDeniedError, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { eventRows, sleep, uniqueProvider, useOps } from '../store/sink-support.js';

interface MetricRow {
  metric_name: string;
  provider_name: string | null;
  service_type: string | null;
  value: number;
  labels: Record<string, unknown>;
}

function metricRows(store: M28Store, provider: string): Promise<MetricRow[]> {
  return store.query<MetricRow>(sql`
    select metric_name, provider_name, service_type, value::float8 as value, labels
    from m28.operational_metrics where provider_name = ${provider} order by id`);
}

const asSystem = (store: M28Store, every: string) =>
  store.withRole('m28_system', (tx) =>
    store.query<{ written: number }>(
      sql`select m28.record_operational_metrics('[]'::jsonb, ${every}::interval) as written`,
      tx,
    ),
  );

async function seedSecret(store: M28Store, nextRotation: string, status = 'active') {
  await store.query(sql`
    insert into m28.secrets_config (scope, key_name, key_type, rotation_schedule, status,
      next_rotation_at)
    values (${uniqueProvider('scope')}, 'api_key', 'api_key', 'quarterly',
      ${status}::m28.secret_status, now() + ${nextRotation}::interval)`);
}

describe.each(backends)('operational metrics on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it('writes availability, success rate and response time every interval', async () => {
    const { store } = database();
    const provider = uniqueProvider('metrics');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, metricsIntervalMs: 100 });
    const writes: number[] = [];
    ops.on('metrics:written', ({ rows }) => writes.push(rows));
    await ops.start();
    // One slow call: the average response time the row holds is above zero.
    await ops.fire(provider, 'api', () => sleep(20).then(() => 'ok'));
    for (let i = 0; i < 2; i += 1) await ops.fire(provider, 'api', () => 'ok');
    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);

    await expect.poll(() => writes.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const rows = await metricRows(store, provider);
    const named = (name: string) => rows.filter((r) => r.metric_name === name);

    expect(named('availability').length).toBeGreaterThanOrEqual(3);
    expect(named('availability').every((r) => r.value === 1 && r.service_type === 'api')).toBe(
      true,
    );
    expect(named('success_rate')).toEqual([
      expect.objectContaining({ value: 0.75, labels: expect.objectContaining({ calls: 4 }) }),
    ]);
    expect(named('response_time_ms')).toHaveLength(1);
    expect(named('response_time_ms')[0]?.value).toBeGreaterThan(0);
  });

  it('lets m28_monitor read the rows, and m28_reader not', async () => {
    const { store } = database();
    const provider = uniqueProvider('monitor');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, metricsIntervalMs: 100 });
    await ops.start();
    await sleep(20);
    await ops.metricsWriter?.writeNow();

    const seen = await store.withRole('m28_monitor', (tx) =>
      store.query<MetricRow>(
        sql`select metric_name from m28.operational_metrics where provider_name = ${provider}`,
        tx,
      ),
    );
    expect(seen.map((r) => r.metric_name)).toContain('availability');
    const denied = await store
      .withRole('m28_reader', (tx) =>
        store.query(sql`select 1 from m28.operational_metrics limit 1`, tx),
      )
      .catch((e: unknown) => e);
    expect(isPermissionDeniedError(denied)).toBe(true);
  });

  it('writes rotation compliance once per interval across instances', async () => {
    const { store } = database();
    await store.query(sql`delete from m28.operational_metrics
      where metric_name = 'rotation_compliance'`);
    for (const next of ['30 days', '10 days', '1 day']) await seedSecret(store, next);
    await seedSecret(store, '-2 days');
    await seedSecret(store, '-40 days', 'retired');

    const [first] = await asSystem(store, '1 hour');
    const [second] = await asSystem(store, '1 hour');
    const rows = await store.query<MetricRow>(sql`
      select metric_name, value::float8 as value, labels, provider_name
      from m28.operational_metrics where metric_name = 'rotation_compliance'`);

    expect([first?.written, second?.written]).toEqual([1, 0]);
    expect(rows).toEqual([
      {
        metric_name: 'rotation_compliance',
        value: 0.75,
        labels: { tracked: 4, overdue: 1 },
        provider_name: null,
      },
    ]);
  });

  it('refuses the writer function to monitor, reader and client', async () => {
    const { store } = database();
    for (const role of ['m28_monitor', 'm28_reader', 'm28_client'] as const) {
      const error = await store
        .withRole(role, (tx) =>
          store.query(sql`select m28.record_operational_metrics('[]'::jsonb)`, tx),
        )
        .catch((e: unknown) => e);

      expect(isPermissionDeniedError(error), role).toBe(true);
    }
  });

  it('writes an alert transition as an operational event with its severity', async () => {
    const { store } = database();
    const provider = uniqueProvider('alert');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 50,
    });
    const raised: string[] = [];
    ops.on('alert:raised', (alert) => raised.push(alert.level));
    await ops.start();

    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);
    await expect.poll(() => raised).toEqual(['warning']);
    await ops.resetBreaker({
      provider,
      service: 'api',
      actor: 'oncall@example.com',
      reason: 'provider fixed',
    });

    await expect
      .poll(async () =>
        (await eventRows(store, provider))
          .filter((r) => r.event_type.startsWith('alert_'))
          .map((r) => [r.event_type, r.severity, r.service_type]),
      )
      .toEqual([
        ['alert_raised', 'warning', 'api'],
        ['alert_resolved', 'info', 'api'],
      ]);
    expect(ops.alerts()).toEqual([]);
  });

  it('writes a critical alert as a critical event, with its rule in the details', async () => {
    const { store } = database();
    const provider = uniqueProvider('critical');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      alerts: { breakerTrips: { critical: 1 } },
      flushIntervalMs: 50,
    });
    await ops.start();

    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);

    await expect
      .poll(() =>
        store.query<{ severity: string; details: Record<string, unknown>; summary: string }>(sql`
          select severity::text, details, summary from m28.provider_operational_events
          where provider_name = ${provider} and event_type = 'alert_raised'`),
      )
      .toEqual([
        {
          severity: 'critical',
          summary: `critical alert: ${provider}/api: circuit breaker tripped once in 1 h`,
          details: expect.objectContaining({
            rule: 'circuit_breaker_trips',
            level: 'critical',
            previous_level: null,
            value: 1,
            threshold: 1,
          }),
        },
      ]);
    expect(ops.alerts()).toMatchObject([{ rule: 'circuit_breaker_trips', level: 'critical' }]);
  });
});
