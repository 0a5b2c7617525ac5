import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';

import type { M28Database, M28Role, M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

// The SQL of the spec's "Operational Procedures" section, copied verbatim, comments and
// trailing spaces included: operators paste these queries as they are, so they must run as
// they are. Each one runs after `set local search_path = m28, public`.

// Daily Health Monitoring

const PROVIDER_HEALTH_SUMMARY = `-- Check provider health summary
SELECT 
  provider_name,
  service_type,
  status,
  circuit_breaker_state,
  last_health_check,
  CASE 
    WHEN last_health_check < now() - INTERVAL '10 minutes' THEN 'STALE'
    WHEN status != 'healthy' THEN 'ATTENTION'
    ELSE 'OK'
  END as health_status
FROM provider_health_status
ORDER BY health_status DESC, provider_name;`;

const RECENT_OPERATIONAL_EVENTS = `-- Check recent operational events
SELECT 
  provider_name,
  event_type,
  severity,
  summary,
  created_at
FROM provider_operational_events
WHERE created_at >= now() - INTERVAL '24 hours'
AND severity IN ('error', 'critical')
ORDER BY created_at DESC;`;

// Weekly Secrets Review

const ROTATION_SCHEDULE_COMPLIANCE = `-- Check rotation schedule compliance
SELECT 
  scope,
  key_name,
  rotation_schedule,
  last_rotated_at,
  next_rotation_at,
  CASE 
    WHEN next_rotation_at < now() THEN 'OVERDUE'
    WHEN next_rotation_at < now() + INTERVAL '7 days' THEN 'DUE_SOON'
    ELSE 'OK'
  END as rotation_status
FROM secrets_config
WHERE status = 'active'
ORDER BY next_rotation_at;`;

const RECENT_ROTATIONS = `-- Review recent rotations
SELECT 
  sc.scope,
  sc.key_name,
  srl.rotation_type,
  srl.status,
  srl.initiated_at,
  srl.completed_at,
  srl.downtime_seconds
FROM secrets_rotation_log srl
JOIN secrets_config sc ON sc.id = srl.secret_config_id
WHERE srl.initiated_at >= now() - INTERVAL '7 days'
ORDER BY srl.initiated_at DESC;`;

// Provider Emergency Disable

const EMERGENCY_DISABLE = `-- Emergency disable failing provider
SELECT toggle_provider(
  'stripe',           -- provider_name
  'payment',          -- service_type  
  false,              -- enabled
  'Emergency: High error rate detected', -- reason
  'admin_user_id'     -- toggled_by
);`;

const CHECK_IMPACT = `-- Check impact
SELECT COUNT(*) as affected_operations
FROM audit_log 
WHERE entity = 'payment_attempt'
AND created_at >= now() - INTERVAL '1 hour'
AND meta->>'provider' = 'stripe';`;

// Emergency Secret Rotation

const FORCE_IMMEDIATE_ROTATION = `-- Force immediate rotation (compromise response)
SELECT start_secret_rotation(
  (SELECT id FROM secrets_config WHERE scope = 'stripe' AND key_name = 'secret_key'),
  'emergency',        -- rotation_type
  'admin_user_id',    -- initiated_by
  'INCIDENT_12345'    -- request_id
);`;

const COMPLETE_ROTATION = `-- After manual key update at provider:
SELECT complete_secret_rotation(
  rotation_id,
  'emergency_v1.0',
  'new_key_fingerprint',
  ARRAY['payment_service', 'webhook_handler'],
  120 -- downtime_seconds during switchover
);`;

// Circuit Breaker Recovery

const CIRCUIT_BREAKER_STATUS = `-- Check circuit breaker status
SELECT 
  provider_name,
  service_type,
  circuit_breaker_state,
  circuit_breaker_failures,
  circuit_breaker_next_attempt
FROM provider_health_status
WHERE circuit_breaker_state != 'closed';`;

const FORCE_CIRCUIT_BREAKER_RESET = `-- Force circuit breaker reset (after fixing issue)
UPDATE provider_health_status 
SET 
  circuit_breaker_state = 'closed',
  circuit_breaker_failures = 0,
  status = 'healthy'
WHERE provider_name = 'stripe' AND service_type = 'payment';`;

const OLD_FINGERPRINT = `sha256:${'a'.repeat(64)}`;
const NEW_FINGERPRINT = `sha256:${'0123456789abcdef'.repeat(4)}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The one edit to the spec's SQL. Its complete_secret_rotation call holds two placeholders
 * that cannot run literally: `rotation_id` becomes the id that start_secret_rotation returned,
 * and 'new_key_fingerprint' a valid fingerprint ('sha256:' and 64 lowercase hex digits), since
 * the function rejects anything else. Nothing else in the text changes.
 */
function completeRotation(rotationId: string): string {
  if (!UUID.test(rotationId)) {
    throw new Error('start_secret_rotation did not return a uuid');
  }
  const edited = COMPLETE_ROTATION.replace('\n  rotation_id,\n', `\n  '${rotationId}',\n`).replace(
    "'new_key_fingerprint'",
    `'${NEW_FINGERPRINT}'`,
  );
  if (edited.includes('rotation_id,') || edited.includes('new_key_fingerprint')) {
    throw new Error('a placeholder of complete_secret_rotation was left in');
  }

  return edited;
}

/** Carries a result out of a transaction that is rolled back on purpose. */
class RolledBack extends Error {
  constructor(readonly value: unknown) {
    super('rolled back on purpose');
  }
}

type Run = <T = Record<string, unknown>>(query: string) => Promise<T[]>;

/**
 * Runs `work` the way an operator runs the runbook: in one transaction with the runbook's
 * search_path, as the connecting superuser or under `role`. The transaction is rolled back,
 * so every procedure starts from the same seeded data.
 */
async function runbook<T>(store: M28Store, role: M28Role | null, work: (run: Run) => Promise<T>) {
  const inTransaction = async (tx: M28Database) => {
    await store.query(sql`set local search_path = m28, public`, tx);
    if (role) {
      await store.query(sql.raw(`set local role ${role}`), tx);
    }
    const run: Run = (query) => store.query(sql.raw(query), tx);

    return work(run);
  };
  try {
    await store.db.transaction(async (tx) => {
      throw new RolledBack(await inTransaction(tx));
    });
  } catch (error) {
    if (error instanceof RolledBack) {
      return error.value as T;
    }
    throw error;
  }
  throw new Error('the transaction was not rolled back');
}

/** As the connecting superuser: what a production database holds when the runbook is used. */
async function seed(store: M28Store): Promise<void> {
  await store.query(sql`
    insert into m28.secrets_config (scope, key_name, key_type, rotation_schedule,
      data_classification, status, current_version, current_fingerprint,
      last_rotated_at, next_rotation_at)
    values
      ('stripe', 'secret_key', 'secret_key', 'quarterly', 'restricted', 'active',
        'v3', ${OLD_FINGERPRINT}, now() - interval '95 days', now() - interval '5 days'),
      ('twilio', 'auth_token', 'token', 'monthly', 'restricted', 'active',
        'v7', ${`sha256:${'b'.repeat(64)}`}, now() - interval '27 days',
        now() + interval '3 days'),
      ('sendgrid', 'api_key', 'api_key', 'quarterly', 'confidential', 'active',
        'v2', ${`sha256:${'c'.repeat(64)}`}, now() - interval '3 days',
        now() + interval '87 days'),
      ('fcm', 'private_key', 'private_key', 'annual', 'restricted', 'rotating',
        'v1', ${`sha256:${'d'.repeat(64)}`}, now() - interval '165 days',
        now() + interval '200 days')`);
  await store.query(sql`
    insert into m28.secrets_rotation_log (secret_config_id, rotation_type, status,
      initiated_by, initiated_at, completed_at, downtime_seconds, failure_reason)
    select sc.id, r.rotation_type::m28.rotation_type, r.status::m28.rotation_status,
      r.initiated_by, now() - r.age, now() - r.age + interval '2 minutes', r.downtime,
      r.failure_reason
    from (values
      ('stripe', 'scheduled', 'completed', 'scheduler', interval '95 days', 0, null),
      ('sendgrid', 'scheduled', 'completed', 'scheduler', interval '3 days', 0, null),
      ('twilio', 'scheduled', 'failed', 'scheduler', interval '2 days', null,
        'provider rejected the new token')
    ) as r (scope, rotation_type, status, initiated_by, age, downtime, failure_reason)
    join m28.secrets_config sc on sc.scope = r.scope`);
  await store.query(sql`
    insert into m28.secrets_rotation_log (secret_config_id, rotation_type, status,
      initiated_by, initiated_at)
    select id, 'emergency', 'in_progress', 'oncall', now() - interval '1 hour'
    from m28.secrets_config where scope = 'fcm'`);

  await store.query(sql`
    insert into m28.provider_config (provider_name, service_type)
    values ('stripe', 'payment'), ('twilio', 'sms'), ('fcm', 'push'), ('sendgrid', 'email')`);
  await store.query(sql`
    insert into m28.provider_health_status (provider_name, service_type, status,
      circuit_breaker_state, circuit_breaker_failures, circuit_breaker_opened_at,
      circuit_breaker_next_attempt, response_time_ms, success_rate, failure_count,
      last_health_check)
    values
      ('stripe', 'payment', 'unhealthy', 'open', 5, now() - interval '2 minutes',
        now() + interval '3 minutes', 4100, 0.8125, 5, now() - interval '1 minute'),
      ('twilio', 'sms', 'healthy', 'closed', 0, null, null, 145, 0.9987, 0,
        now() - interval '2 minutes'),
      ('fcm', 'push', 'healthy', 'closed', 0, null, null, 98, 1, 0,
        now() - interval '30 minutes'),
      ('sendgrid', 'email', 'degraded', 'half_open', 2, now() - interval '6 minutes',
        null, 1900, 0.95, 2, now() - interval '1 minute')`);
  await store.query(sql`
    insert into m28.provider_operational_events (provider_name, service_type, event_type,
      severity, summary, created_at)
    values
      ('stripe', 'payment', 'alert_raised', 'critical', 'stripe/payment error rate 19%',
        now() - interval '10 minutes'),
      ('stripe', 'payment', 'breaker_open', 'error', 'stripe/payment breaker opened',
        now() - interval '30 minutes'),
      ('twilio', 'sms', 'health_check_failed', 'warning', 'twilio/sms check timed out',
        now() - interval '1 hour'),
      ('sendgrid', 'email', 'status_change', 'error', 'sendgrid/email degraded',
        now() - interval '5 hours'),
      ('stripe', 'payment', 'health_check_failed', 'error', 'stripe/payment check failed',
        now() - interval '2 days')`);
  // audit_log rows arrive only through append_audit.
  for (const [entity, provider] of [
    ['payment_attempt', 'stripe'],
    ['payment_attempt', 'stripe'],
    ['payment_attempt', 'stripe'],
    ['payment_attempt', 'adyen'],
    ['refund', 'stripe'],
  ] as const) {
    await store.query(sql`
      select m28.append_audit('checkout', ${`${entity}.create`}, ${entity}, null, null, null,
        jsonb_build_object('provider', ${provider}::text))`);
  }
}

const CURRENT_USER = 'select current_user::text as current, session_user::text as session';

const HEALTH_SUMMARY = [
  { provider_name: 'fcm', health_status: 'STALE' },
  { provider_name: 'twilio', health_status: 'OK' },
  { provider_name: 'sendgrid', health_status: 'ATTENTION' },
  { provider_name: 'stripe', health_status: 'ATTENTION' },
];

const RECENT_ERRORS = [
  { provider_name: 'stripe', event_type: 'alert_raised', severity: 'critical' },
  { provider_name: 'stripe', event_type: 'breaker_open', severity: 'error' },
  { provider_name: 'sendgrid', event_type: 'status_change', severity: 'error' },
];

describe.each(backends)('Runbook on %s', (backend) => {
  const database = useDatabase(backend);

  beforeAll(async () => {
    await seed(database().store);
  });

  describe('Daily Health Monitoring', () => {
    it.each([
      ['the connecting superuser', null],
      ['m28_monitor', 'm28_monitor'],
    ] as const)('summarises provider health for %s', async (_who, role) => {
      const [rows, [user]] = await runbook(database().store, role, (run) =>
        Promise.all([
          run<{ provider_name: string; health_status: string }>(PROVIDER_HEALTH_SUMMARY),
          run<{ current: string; session: string }>(CURRENT_USER),
        ]),
      );

      expect(user?.current).toBe(role ?? user?.session);

      expect(
        rows.map((r) => ({ provider_name: r.provider_name, health_status: r.health_status })),
      ).toEqual(HEALTH_SUMMARY);
      expect(rows[3]).toMatchObject({
        service_type: 'payment',
        status: 'unhealthy',
        circuit_breaker_state: 'open',
      });
    });

    it.each([
      ['the connecting superuser', null],
      ['m28_monitor', 'm28_monitor'],
    ] as const)('lists the last day of errors for %s, newest first', async (_who, role) => {
      const [rows, [user]] = await runbook(database().store, role, (run) =>
        Promise.all([
          run<{ provider_name: string; event_type: string; severity: string; summary: string }>(
            RECENT_OPERATIONAL_EVENTS,
          ),
          run<{ current: string; session: string }>(CURRENT_USER),
        ]),
      );

      expect(user?.current).toBe(role ?? user?.session);

      expect(
        rows.map(({ provider_name, event_type, severity }) => ({
          provider_name,
          event_type,
          severity,
        })),
      ).toEqual(RECENT_ERRORS);
      expect(rows[0]?.summary).toBe('stripe/payment error rate 19%');
    });
  });

  describe('Weekly Secrets Review', () => {
    it('marks overdue and soon-due active secrets', async () => {
      const rows = await runbook(database().store, null, (run) =>
        run<{
          scope: string;
          key_name: string;
          rotation_schedule: string;
          rotation_status: string;
        }>(ROTATION_SCHEDULE_COMPLIANCE),
      );

      expect(
        rows.map(({ scope, key_name, rotation_schedule, rotation_status }) => ({
          scope,
          key_name,
          rotation_schedule,
          rotation_status,
        })),
      ).toEqual([
        {
          scope: 'stripe',
          key_name: 'secret_key',
          rotation_schedule: 'quarterly',
          rotation_status: 'OVERDUE',
        },
        {
          scope: 'twilio',
          key_name: 'auth_token',
          rotation_schedule: 'monthly',
          rotation_status: 'DUE_SOON',
        },
        {
          scope: 'sendgrid',
          key_name: 'api_key',
          rotation_schedule: 'quarterly',
          rotation_status: 'OK',
        },
      ]);
    });

    it('lists the last week of rotations, newest first', async () => {
      const rows = await runbook(database().store, null, (run) =>
        run<Record<string, unknown>>(RECENT_ROTATIONS),
      );

      expect(
        rows.map(({ scope, rotation_type, status, downtime_seconds }) => ({
          scope,
          rotation_type,
          status,
          downtime_seconds,
        })),
      ).toEqual([
        { scope: 'fcm', rotation_type: 'emergency', status: 'in_progress', downtime_seconds: null },
        { scope: 'twilio', rotation_type: 'scheduled', status: 'failed', downtime_seconds: null },
        { scope: 'sendgrid', rotation_type: 'scheduled', status: 'completed', downtime_seconds: 0 },
      ]);
      expect(rows[0]?.completed_at).toBeNull();
      expect(rows[2]?.completed_at).not.toBeNull();
    });
  });

  describe('Provider Emergency Disable', () => {
    it.each([
      ['the connecting superuser', null],
      ['m28_admin', 'm28_admin'],
    ] as const)('disables stripe/payment with an audit trail for %s', async (who, role) => {
      const result = await runbook(database().store, role, async (run) => ({
        toggled: await run<{ toggle_provider: string }>(EMERGENCY_DISABLE),
        impact: await run<{ affected_operations: unknown }>(CHECK_IMPACT),
        health: await run(`select status::text, enabled, maintenance_mode
          from m28.provider_health_status
          where provider_name = 'stripe' and service_type = 'payment'`),
        config: await run(`select enabled, reason, toggled_by from m28.provider_config
          where provider_name = 'stripe' and service_type = 'payment'`),
        audit: await run(`select actor, entity, reason, db_role, meta->'after'->>'status' as after
          from m28.audit_log where action = 'provider.toggle'`),
        login: await run<{ user: string }>('select session_user::text as user'),
        events: await run(`select event_type, severity::text, actor
          from m28.provider_operational_events
          where provider_name = 'stripe' and event_type = 'toggle'`),
      }));

      expect(result.toggled).toEqual([{ toggle_provider: 'disabled' }]);
      expect(result.health).toEqual([
        { status: 'disabled', enabled: false, maintenance_mode: false },
      ]);
      expect(result.config).toEqual([
        {
          enabled: false,
          reason: 'Emergency: High error rate detected',
          toggled_by: 'admin_user_id',
        },
      ]);
      expect(result.audit).toEqual([
        {
          actor: 'admin_user_id',
          entity: 'provider_config',
          reason: 'Emergency: High error rate detected',
          db_role: role ?? result.login[0]?.user,
          after: 'disabled',
        },
      ]);
      expect(result.events).toEqual([
        { event_type: 'toggle', severity: 'warning', actor: 'admin_user_id' },
      ]);
      expect(
        result.impact.map((r) => Number(r.affected_operations)),
        who,
      ).toEqual([3]);
    });
  });

  describe('Emergency Secret Rotation', () => {
    it('rotates the stripe secret key now and records a 120-second switchover', async () => {
      const result = await runbook(database().store, null, async (run) => {
        const [started] = await run<{ start_secret_rotation: string }>(FORCE_IMMEDIATE_ROTATION);
        const rotationId = started!.start_secret_rotation;
        const during = await run(
          `select status::text from m28.secrets_config where scope = 'stripe'`,
        );
        await run(completeRotation(rotationId));

        return {
          during,
          secret: await run(`select status::text, current_version, current_fingerprint,
              previous_version, previous_fingerprint, next_rotation_at > now() as scheduled
            from m28.secrets_config where scope = 'stripe' and key_name = 'secret_key'`),
          rotation: await run(`select rotation_type::text, status::text, initiated_by, request_id,
              new_version, new_fingerprint, previous_fingerprint, affected_services,
              downtime_seconds, completed_at is not null as completed
            from m28.secrets_rotation_log where id = '${rotationId}'`),
          audit: await run(`select action, request_id from m28.audit_log
            where entity_id = '${rotationId}' order by id`),
          review: await run<{ scope: string; status: string; downtime_seconds: number }>(
            RECENT_ROTATIONS,
          ),
        };
      });

      expect(result.during).toEqual([{ status: 'rotating' }]);
      expect(result.secret).toEqual([
        {
          status: 'active',
          current_version: 'emergency_v1.0',
          current_fingerprint: NEW_FINGERPRINT,
          previous_version: 'v3',
          previous_fingerprint: OLD_FINGERPRINT,
          scheduled: true,
        },
      ]);
      expect(result.rotation).toEqual([
        {
          rotation_type: 'emergency',
          status: 'completed',
          initiated_by: 'admin_user_id',
          request_id: 'INCIDENT_12345',
          new_version: 'emergency_v1.0',
          new_fingerprint: NEW_FINGERPRINT,
          previous_fingerprint: OLD_FINGERPRINT,
          affected_services: ['payment_service', 'webhook_handler'],
          downtime_seconds: 120,
          completed: true,
        },
      ]);
      expect(result.audit).toEqual([
        { action: 'secret_rotation.start', request_id: 'INCIDENT_12345' },
        { action: 'secret_rotation.complete', request_id: 'INCIDENT_12345' },
      ]);
      expect(result.review[0]).toMatchObject({
        scope: 'stripe',
        status: 'completed',
        downtime_seconds: 120,
      });
    });
  });

  describe('Circuit Breaker Recovery', () => {
    it('lists the breakers that are not closed', async () => {
      const rows = await runbook(database().store, null, (run) =>
        run<Record<string, unknown>>(CIRCUIT_BREAKER_STATUS),
      );

      expect(
        rows
          .map(
            ({ provider_name, service_type, circuit_breaker_state, circuit_breaker_failures }) => ({
              provider_name,
              service_type,
              circuit_breaker_state,
              circuit_breaker_failures,
            }),
          )
          .sort((a, b) => String(a.provider_name).localeCompare(String(b.provider_name))),
      ).toEqual([
        {
          provider_name: 'sendgrid',
          service_type: 'email',
          circuit_breaker_state: 'half_open',
          circuit_breaker_failures: 2,
        },
        {
          provider_name: 'stripe',
          service_type: 'payment',
          circuit_breaker_state: 'open',
          circuit_breaker_failures: 5,
        },
      ]);
      const stripe = rows.find((r) => r.provider_name === 'stripe');
      expect(stripe?.circuit_breaker_next_attempt).not.toBeNull();
    });

    it('closes the stripe/payment breaker with the force-reset UPDATE', async () => {
      const result = await runbook(database().store, null, async (run) => {
        await run(FORCE_CIRCUIT_BREAKER_RESET);

        return {
          stripe: await run(`select circuit_breaker_state::text, circuit_breaker_failures,
              status::text from m28.provider_health_status
            where provider_name = 'stripe' and service_type = 'payment'`),
          open: await run<{ provider_name: string }>(CIRCUIT_BREAKER_STATUS),
        };
      });

      expect(result.stripe).toEqual([
        { circuit_breaker_state: 'closed', circuit_breaker_failures: 0, status: 'healthy' },
      ]);
      expect(result.open.map((r) => r.provider_name)).toEqual(['sendgrid']);
    });
  });
});
