import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  AuditAppendOnlyError,
  isAuditAppendOnlyError,
  isPermissionDeniedError,
  M28_ROLES,
  NotFoundError,
  PermissionDeniedError,
  type M28Database,
  type M28Role,
  type M28Store,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

type Command = 'select' | 'insert' | 'update' | 'delete';
type Matrix = Record<string, Record<string, Record<Command, string>>>;

const COMMANDS: readonly Command[] = ['select', 'insert', 'update', 'delete'];

const fingerprint = (hexDigit: string) => `sha256:${hexDigit.repeat(64)}`;

/** How each M28 table is probed: every statement is fixed SQL, no value comes from outside. */
interface TableProbe {
  /** A valid new row. */
  readonly insert: string;
  /** For secrets_config: a restricted row, which fewer roles may add than other rows. */
  readonly insertRestricted?: string;
  /** A no-op assignment, so an UPDATE of every row changes nothing but reports the rows. */
  readonly touch: string;
  /** Labelled subsets of the seeded rows that a role may be limited to. */
  readonly subsets?: Readonly<Record<string, string>>;
  /** Runs as the connecting superuser before a DELETE probe, so foreign keys stay out of it. */
  readonly beforeDelete?: string;
}

/** A fixed id, so that a probe can name the restricted secret that admin cannot select. */
const RESTRICTED_SECRET_ID = '00000000-0000-4000-8000-000000000028';

const TABLES: Readonly<Record<string, TableProbe>> = {
  secrets_config: {
    insert: `insert into m28.secrets_config (scope, key_name, key_type, data_classification)
      values ('probe', 'probe_key', 'api_key', 'confidential')`,
    insertRestricted: `insert into m28.secrets_config
      (scope, key_name, key_type, data_classification)
      values ('probe', 'probe_restricted', 'secret_key', 'restricted')`,
    touch: 'description = description',
    subsets: { 'non-restricted rows': "data_classification <> 'restricted'" },
    beforeDelete: 'delete from m28.secrets_rotation_log',
  },
  secrets_rotation_log: {
    insert: `insert into m28.secrets_rotation_log
      (secret_config_id, rotation_type, status, initiated_by)
      select id, 'manual', 'completed', 'probe' from m28.secrets_config
      where scope = 'twilio' and key_name = 'auth_token'`,
    insertRestricted: `insert into m28.secrets_rotation_log
      (secret_config_id, rotation_type, status, initiated_by)
      values ('${RESTRICTED_SECRET_ID}', 'manual', 'completed', 'probe')`,
    touch: 'initiated_by = initiated_by',
    subsets: {
      'completed rows': "status = 'completed'",
      'non-restricted rows': `secret_config_id in
        (select id from m28.secrets_config where data_classification <> 'restricted')`,
    },
  },
  provider_health_status: {
    insert: `insert into m28.provider_health_status (provider_name, service_type)
      values ('probe', 'probe')`,
    touch: 'failure_count = failure_count',
  },
  provider_operational_events: {
    insert: `insert into m28.provider_operational_events
      (provider_name, event_type, severity, summary) values ('probe', 'toggle', 'info', 'probe')`,
    touch: 'summary = summary',
  },
  provider_config: {
    insert: `insert into m28.provider_config (provider_name, service_type)
      values ('probe', 'probe')`,
    touch: 'reason = reason',
  },
  operational_metrics: {
    insert: `insert into m28.operational_metrics (metric_name, value) values ('probe', 1)`,
    touch: 'value = value',
  },
  audit_log: {
    insert: `insert into m28.audit_log (actor, action, entity, db_role)
      values ('probe', 'probe', 'probe', 'probe')`,
    touch: 'reason = reason',
  },
};

const FULL = { select: 'all rows', insert: 'allowed', update: 'all rows', delete: 'all rows' };
const READ_ONLY = { select: 'all rows', insert: 'denied', update: 'denied', delete: 'denied' };
const NONE = { select: 'denied', insert: 'denied', update: 'denied', delete: 'denied' };
const NO_DELETE = { select: 'all rows', insert: 'allowed', update: 'all rows', delete: 'denied' };
const APPEND = { select: 'all rows', insert: 'allowed', update: 'denied', delete: 'denied' };

/**
 * The spec's access matrix, plus this project's rules: restricted secrets are superadmin's
 * only, audit_log is append-only and readable by admin and superadmin, and m28_system writes
 * but never deletes.
 */
const EXPECTED: Matrix = {
  secrets_config: {
    m28_superadmin: FULL,
    m28_admin: {
      select: 'non-restricted rows',
      insert: 'non-restricted only',
      update: 'non-restricted rows',
      delete: 'non-restricted rows',
    },
    m28_monitor: NONE,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: NO_DELETE,
  },
  secrets_rotation_log: {
    m28_superadmin: FULL,
    // The history of a restricted secret is as hidden from admin as the secret itself.
    m28_admin: {
      select: 'non-restricted rows',
      insert: 'non-restricted only',
      update: 'non-restricted rows',
      delete: 'non-restricted rows',
    },
    m28_monitor: { ...NONE, select: 'completed rows' },
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: NO_DELETE,
  },
  provider_health_status: {
    m28_superadmin: FULL,
    m28_admin: FULL,
    m28_monitor: READ_ONLY,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: NO_DELETE,
  },
  provider_operational_events: {
    m28_superadmin: FULL,
    m28_admin: FULL,
    m28_monitor: READ_ONLY,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: APPEND,
  },
  provider_config: {
    m28_superadmin: FULL,
    m28_admin: FULL,
    m28_monitor: NONE,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: NO_DELETE,
  },
  operational_metrics: {
    m28_superadmin: FULL,
    m28_admin: FULL,
    m28_monitor: READ_ONLY,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: APPEND,
  },
  audit_log: {
    m28_superadmin: READ_ONLY,
    m28_admin: READ_ONLY,
    m28_monitor: NONE,
    m28_reader: NONE,
    m28_client: NONE,
    m28_system: NONE,
  },
};

/** Carries a result out of a transaction that is rolled back on purpose. */
class RolledBack extends Error {
  constructor(readonly value: unknown) {
    super('rolled back on purpose');
  }
}

/** Runs `work` in a transaction that is always rolled back, and returns what it returned. */
async function rolledBack<T>(store: M28Store, work: (tx: M28Database) => Promise<T>): Promise<T> {
  try {
    await store.db.transaction(async (tx) => {
      throw new RolledBack(await work(tx));
    });
  } catch (error) {
    if (error instanceof RolledBack) {
      return error.value as T;
    }
    throw error;
  }
  throw new Error('the transaction was not rolled back');
}

type ProbeResult = 'denied' | 'append-only' | string[];

interface ProbeOptions {
  /** Runs as the connecting superuser, before the role is set. */
  readonly prepare?: string | undefined;
  /** Runs under the role, before the statement. */
  readonly setup?: readonly string[];
}

/**
 * Runs `statement` under `role` in a rolled-back transaction. Returns the sorted `id`s it
 * returned, or how the database refused it; any other error fails the test.
 */
function probe(
  store: M28Store,
  role: M28Role,
  statement: string,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  return rolledBack(store, async (tx) => {
    if (options.prepare) {
      await store.query(sql.raw(options.prepare), tx);
    }
    await store.query(sql.raw(`set local role ${role}`), tx);
    for (const setup of options.setup ?? []) {
      await store.query(sql.raw(setup), tx);
    }
    try {
      const rows = await store.query<{ id?: unknown }>(sql.raw(statement), tx);

      return rows.map((row) => String(row.id)).sort();
    } catch (error) {
      if (isPermissionDeniedError(error)) {
        return 'denied';
      }
      if (isAuditAppendOnlyError(error)) {
        return 'append-only';
      }
      throw error;
    }
  });
}

/** The ids of every seeded row of each table, and of each labelled subset. */
interface RowSets {
  readonly all: string[];
  readonly subsets: Record<string, string[]>;
}

async function ids(store: M28Store, table: string, where = 'true'): Promise<string[]> {
  const rows = await store.query<{ id: string }>(
    sql.raw(`select id::text as id from m28.${table} where ${where}`),
  );

  return rows.map((row) => row.id).sort();
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** Names the rows a statement reached: all, none, a labelled subset, or a bare count. */
function describeRows(result: ProbeResult, rows: RowSets): string {
  if (typeof result === 'string') {
    return result;
  }
  if (sameIds(result, rows.all)) {
    return 'all rows';
  }
  if (result.length === 0) {
    return 'no rows';
  }
  for (const [label, subset] of Object.entries(rows.subsets)) {
    if (sameIds(result, subset)) {
      return label;
    }
  }

  return `${result.length} of ${rows.all.length} rows`;
}

async function insertOutcome(store: M28Store, role: M28Role, table: TableProbe) {
  const plain = await probe(store, role, table.insert);
  if (plain === 'append-only') {
    return plain;
  }
  const allowed = plain !== 'denied';
  if (!table.insertRestricted) {
    return allowed ? 'allowed' : 'denied';
  }
  const restricted = (await probe(store, role, table.insertRestricted)) !== 'denied';
  if (allowed && restricted) {
    return 'allowed';
  }
  if (allowed) {
    return 'non-restricted only';
  }

  return restricted ? 'restricted only' : 'denied';
}

async function outcome(
  store: M28Store,
  role: M28Role,
  tableName: string,
  command: Command,
  rows: RowSets,
): Promise<string> {
  const table = TABLES[tableName]!;
  switch (command) {
    case 'select':
      return describeRows(
        await probe(store, role, `select id::text as id from m28.${tableName}`),
        rows,
      );
    case 'insert':
      return insertOutcome(store, role, table);
    case 'update':
      return describeRows(
        await probe(
          store,
          role,
          `update m28.${tableName} set ${table.touch} returning id::text as id`,
        ),
        rows,
      );
    case 'delete':
      return describeRows(
        await probe(store, role, `delete from m28.${tableName} returning id::text as id`, {
          prepare: table.beforeDelete,
        }),
        rows,
      );
  }
}

/** Ids of the seeded rows the function calls work on. */
interface Fixtures {
  readonly restrictedSecretId: string;
  readonly confidentialSecretId: string;
  readonly internalSecretId: string;
  readonly openRotationId: string;
}

/** As the connecting superuser, which bypasses row-level security. */
async function seed(store: M28Store): Promise<Fixtures> {
  const secrets = await store.query<{ id: string; scope: string }>(sql`
    insert into m28.secrets_config (id, scope, key_name, key_type, data_classification, status,
      current_version, current_fingerprint, previous_version, previous_fingerprint)
    values
      (${RESTRICTED_SECRET_ID}::uuid, 'stripe', 'secret_key', 'secret_key', 'restricted',
        'active', 'v1', ${fingerprint('a')}, null, null),
      (gen_random_uuid(), 'sendgrid', 'api_key', 'api_key', 'confidential', 'rotating',
        'v3', ${fingerprint('b')}, null, null),
      (gen_random_uuid(), 'twilio', 'auth_token', 'token', 'internal', 'active',
        'v2', ${fingerprint('c')}, 'v1', ${fingerprint('d')})
    returning id::text as id, scope`);
  const idOf = (scope: string) => secrets.find((s) => s.scope === scope)!.id;
  const [restricted, confidential, internal] = [idOf('stripe'), idOf('sendgrid'), idOf('twilio')];

  const rotations = await store.query<{ id: string; status: string }>(sql`
    insert into m28.secrets_rotation_log
      (secret_config_id, rotation_type, status, initiated_by, completed_at, failure_reason)
    values
      (${restricted}::uuid, 'scheduled', 'completed', 'scheduler', now(), null),
      (${internal}::uuid, 'manual', 'completed', 'ops', now(), null),
      (${internal}::uuid, 'scheduled', 'failed', 'scheduler', now(), 'provider timeout'),
      (${confidential}::uuid, 'emergency', 'in_progress', 'ops', null, null)
    returning id::text as id, status`);

  await store.query(sql`
    insert into m28.provider_health_status (provider_name, service_type, status,
      circuit_breaker_state, circuit_breaker_failures, last_health_check)
    values ('stripe', 'payment', 'unhealthy', 'open', 5, now()),
      ('twilio', 'sms', 'healthy', 'closed', 0, now())`);
  await store.query(sql`
    insert into m28.provider_config (provider_name, service_type)
    values ('stripe', 'payment'), ('twilio', 'sms')`);
  await store.query(sql`
    insert into m28.provider_operational_events (provider_name, service_type, event_type,
      severity, summary)
    values ('stripe', 'payment', 'breaker_open', 'error', 'stripe/payment breaker opened'),
      ('twilio', 'sms', 'health_check_failed', 'warning', 'twilio/sms check timed out')`);
  await store.query(sql`
    insert into m28.operational_metrics (metric_name, provider_name, service_type, value)
    values ('provider_response_time_ms', 'stripe', 'payment', 145),
      ('provider_response_time_ms', 'twilio', 'sms', 310)`);
  await store.query(sql`
    select m28.append_audit('ops', 'provider.toggle', 'provider_config', null, 'seed', null,
      '{"provider": "stripe"}'::jsonb)`);
  await store.query(sql`
    select m28.append_audit('ops', 'secret_rotation.start', 'secrets_rotation_log', null,
      null, null, '{}'::jsonb)`);

  return {
    restrictedSecretId: restricted,
    confidentialSecretId: confidential,
    internalSecretId: internal,
    openRotationId: rotations.find((r) => r.status === 'in_progress')!.id,
  };
}

/** Every state-changing M28 function, called with arguments that succeed for a writer. */
function stateChangingCalls(f: Fixtures): Record<string, string> {
  const fp = `'${fingerprint('e')}'`;

  return {
    append_audit: `select m28.append_audit('probe', 'probe.call', 'probe', null, null, null,
      '{}'::jsonb)`,
    start_secret_rotation: `select m28.start_secret_rotation('${f.internalSecretId}',
      'emergency', 'probe')`,
    complete_secret_rotation: `select m28.complete_secret_rotation('${f.openRotationId}',
      'v4', ${fp}, array['api_service'], 0, 'probe')`,
    end_secret_rotation: `select m28.end_secret_rotation('${f.openRotationId}', 'failed',
      'x', 'probe')`,
    fail_secret_rotation: `select m28.fail_secret_rotation('${f.openRotationId}', 'x', 'probe')`,
    cancel_secret_rotation: `select m28.cancel_secret_rotation('${f.openRotationId}', 'x',
      'probe')`,
    rollback_secret_rotation: `select m28.rollback_secret_rotation('${f.internalSecretId}',
      'x', 'probe')`,
    lock_provider: `select 1 from m28.lock_provider('stripe', 'payment')`,
    toggle_provider: `select m28.toggle_provider('stripe', 'payment', false, 'x', 'y')`,
    reset_circuit_breaker: `select m28.reset_circuit_breaker('stripe', 'payment', 'x', 'y')`,
  };
}

const WRITERS: readonly M28Role[] = ['m28_superadmin', 'm28_admin', 'm28_system'];

const SPOOFS = [
  { setting: 'm28.role', statement: "set local m28.role = 'admin'", value: 'admin' },
  {
    setting: 'request.jwt.claims',
    statement: `select set_config('request.jwt.claims', '{"role":"admin"}', true)`,
    value: '{"role":"admin"}',
  },
  { setting: 'app.role', statement: "set local app.role = 'm28_admin'", value: 'm28_admin' },
];

describe.each(backends)('the RLS matrix on %s', (backend) => {
  const database = useDatabase(backend);
  let fixtures: Fixtures;
  const rowSets: Record<string, RowSets> = {};

  beforeAll(async () => {
    const { store } = database();
    fixtures = await seed(store);
    for (const [table, tableProbe] of Object.entries(TABLES)) {
      const subsets: Record<string, string[]> = {};
      for (const [label, where] of Object.entries(tableProbe.subsets ?? {})) {
        subsets[label] = await ids(store, table, where);
      }
      rowSets[table] = { all: await ids(store, table), subsets };
    }
  });

  it('seeds rows that tell all, some and no rows apart', () => {
    for (const [table, rows] of Object.entries(rowSets)) {
      expect(rows.all.length, table).toBeGreaterThanOrEqual(2);
      for (const [label, subset] of Object.entries(rows.subsets)) {
        expect(subset.length, `${table}: ${label}`).toBeGreaterThan(0);
        expect(subset.length, `${table}: ${label}`).toBeLessThan(rows.all.length);
      }
    }
  });

  it('grants every role exactly the access of the matrix', async () => {
    const { store } = database();
    const actual: Matrix = {};
    for (const table of Object.keys(TABLES)) {
      actual[table] = {};
      for (const role of M28_ROLES) {
        const cells = {} as Record<Command, string>;
        for (const command of COMMANDS) {
          cells[command] = await outcome(store, role, table, command, rowSets[table]!);
        }
        actual[table]![role] = cells;
      }
    }

    expect(actual).toEqual(EXPECTED);
  });

  it('monitor sees completed rotations only', async () => {
    const { store } = database();
    const statuses = await rolledBack(store, async (tx) => {
      await store.query(sql`set local role m28_monitor`, tx);

      return store.query<{ status: string }>(
        sql`select status::text as status from m28.secrets_rotation_log order by status`,
        tx,
      );
    });
    const [all] = await store.query<{ completed: number; other: number }>(sql`
      select count(*) filter (where status = 'completed')::int as completed,
        count(*) filter (where status <> 'completed')::int as other
      from m28.secrets_rotation_log`);

    expect(all!.other).toBeGreaterThan(0);
    expect(statuses.map((r) => r.status)).toEqual(Array(all!.completed).fill('completed'));
  });

  it('shows restricted secrets to superadmin and system only', async () => {
    const { store } = database();
    const visible = async (role: M28Role) =>
      rolledBack(store, async (tx) => {
        await store.query(sql.raw(`set local role ${role}`), tx);
        const rows = await store.query<{ scope: string }>(
          sql`select scope from m28.secrets_config order by scope`,
          tx,
        );

        return rows.map((r) => r.scope);
      });

    expect(await visible('m28_superadmin')).toEqual(['sendgrid', 'stripe', 'twilio']);
    expect(await visible('m28_system')).toEqual(['sendgrid', 'stripe', 'twilio']);
    expect(await visible('m28_admin')).toEqual(['sendgrid', 'twilio']);
  });

  it('keeps admin from touching or creating a restricted secret', async () => {
    const { store } = database();
    const { restrictedSecretId, confidentialSecretId } = fixtures;

    expect(
      await probe(
        store,
        'm28_admin',
        `update m28.secrets_config set description = 'x' where id = '${restrictedSecretId}'
          returning id::text as id`,
      ),
    ).toEqual([]);
    expect(
      await probe(
        store,
        'm28_admin',
        `delete from m28.secrets_config where id = '${restrictedSecretId}'
          returning id::text as id`,
        { prepare: 'delete from m28.secrets_rotation_log' },
      ),
    ).toEqual([]);
    expect(await probe(store, 'm28_admin', TABLES.secrets_config!.insertRestricted!)).toBe(
      'denied',
    );
    expect(
      await probe(
        store,
        'm28_admin',
        `update m28.secrets_config set data_classification = 'restricted'
          where id = '${confidentialSecretId}' returning id::text as id`,
      ),
    ).toBe('denied');
  });

  it('reports a restricted secret as not found when admin starts its rotation', async () => {
    const { store } = database();
    const error = await rolledBack(store, async (tx) => {
      await store.query(sql`set local role m28_admin`, tx);

      return store
        .query(
          sql`select m28.start_secret_rotation(${fixtures.restrictedSecretId}::uuid,
            'emergency', 'probe')`,
          tx,
        )
        .catch((e: unknown) => e);
    });

    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('rejects UPDATE and DELETE on audit_log even from the connecting superuser', async () => {
    const { store } = database();
    const attempt = (statement: string) =>
      rolledBack(store, (tx) =>
        store.query(sql.raw(statement), tx).catch((error: unknown) => error),
      );

    expect(await attempt(`update m28.audit_log set reason = 'rewritten'`)).toBeInstanceOf(
      AuditAppendOnlyError,
    );
    expect(await attempt('delete from m28.audit_log')).toBeInstanceOf(AuditAppendOnlyError);
  });

  it('records the SET ROLE role of an audit row appended through append_audit', async () => {
    const { store } = database();
    const [row] = await rolledBack(store, async (tx) => {
      await store.query(sql`set local role m28_admin`, tx);
      const [appended] = await store.query<{ id: string }>(
        sql`select m28.append_audit('alice', 'probe.call', 'probe', null, null, null,
          '{}'::jsonb)::text as id`,
        tx,
      );

      return store.query<{ db_role: string; actor: string }>(
        sql`select db_role, actor from m28.audit_log where id = ${appended!.id}::bigint`,
        tx,
      );
    });

    expect(row).toEqual({ db_role: 'm28_admin', actor: 'alice' });
  });

  describe.each(SPOOFS)('m28_client with $setting spoofed', ({ setting, statement, value }) => {
    it('holds the spoofed setting', async () => {
      const { store } = database();
      const [row] = await rolledBack(store, async (tx) => {
        await store.query(sql`set local role m28_client`, tx);
        await store.query(sql.raw(statement), tx);

        return store.query<{ value: string; role: string }>(
          sql`select current_setting(${setting}, true) as value, current_user as role`,
          tx,
        );
      });

      expect(row).toEqual({ value, role: 'm28_client' });
    });

    it('is still denied every M28 table and state-changing function', async () => {
      const { store } = database();
      const results: Record<string, ProbeResult> = {};
      for (const table of Object.keys(TABLES)) {
        results[table] = await probe(
          store,
          'm28_client',
          `select id::text as id from m28.${table}`,
          { setup: [statement] },
        );
      }
      results.toggle_provider = await probe(
        store,
        'm28_client',
        `select m28.toggle_provider('stripe', 'payment', false, 'x', 'y') as id`,
        { setup: [statement] },
      );

      expect(results).toEqual(
        Object.fromEntries([...Object.keys(TABLES), 'toggle_provider'].map((k) => [k, 'denied'])),
      );
    });
  });

  it('limits a spoofing monitor to completed rotations and no secrets', async () => {
    const { store } = database();
    const setup = [
      "set local m28.role = 'admin'",
      `select set_config('request.jwt.claims', '{"role":"admin"}', true)`,
      "set local app.role = 'm28_admin'",
    ];
    const rotations = await probe(
      store,
      'm28_monitor',
      'select id::text as id from m28.secrets_rotation_log',
      { setup },
    );
    const secrets = await probe(
      store,
      'm28_monitor',
      'select id::text as id from m28.secrets_config',
      {
        setup,
      },
    );

    expect(rotations).toEqual(rowSets.secrets_rotation_log!.subsets['completed rows']);
    expect(secrets).toBe('denied');
  });

  it('lets only admin, superadmin and system call the state-changing functions', async () => {
    const { store } = database();
    const calls = stateChangingCalls(fixtures);
    const actual: Record<string, Record<string, string>> = {};
    const expected: Record<string, Record<string, string>> = {};
    for (const [name, call] of Object.entries(calls)) {
      actual[name] = {};
      expected[name] = {};
      for (const role of M28_ROLES) {
        const result = await probe(store, role, call);
        actual[name]![role] = result === 'denied' ? 'denied' : 'allowed';
        expected[name]![role] = WRITERS.includes(role) ? 'allowed' : 'denied';
      }
    }

    expect(actual).toEqual(expected);
  });

  it('lets monitor, reader and client execute the pure helper functions only', async () => {
    const rows = await database().store.query<{ name: string; role: string }>(sql`
      select p.proname::text as name, r.rolname::text as role
      from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      cross join pg_roles r
      where n.nspname = 'm28'
        and r.rolname in ('m28_monitor', 'm28_reader', 'm28_client')
        and has_function_privilege(r.oid, p.oid, 'execute')
      order by 1, 2`);
    const names = [...new Set(rows.map((row) => row.name))].sort();

    expect(names).toEqual([
      'default_data_classification',
      'default_rotation_schedule',
      'is_fingerprint',
      'next_rotation_after',
    ]);
  });

  it('denies m28_monitor toggling a provider with PermissionDeniedError', async () => {
    const { store } = database();
    const error = await store
      .withRole('m28_monitor', (tx) =>
        store.query(sql`select m28.toggle_provider('stripe', 'payment', false, 'x', 'y')`, tx),
      )
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ code: 'M28_PERMISSION_DENIED', sqlState: '42501' });
    const [health] = await store.query<{ status: string }>(sql`
      select status::text as status from m28.provider_health_status
      where provider_name = 'stripe' and service_type = 'payment'`);
    expect(health?.status).toBe('unhealthy');
  });

  it('returns every connection to the login user after role transactions', async () => {
    const { store } = database();
    const rounds = backend === 'postgres' ? 20 : 1;
    await Promise.all(
      Array.from({ length: rounds }, () =>
        Promise.all(
          M28_ROLES.map(async (role) => {
            await store.withRole(role, (tx) => store.query(sql`select pg_sleep(0.01)`, tx));
            await store
              .withRole(role, (tx) => store.query(sql`select 1 from m28.audit_log limit 0`, tx))
              .catch(() => undefined);
          }),
        ),
      ),
    );
    const rows = (
      await Promise.all(
        Array.from({ length: rounds * M28_ROLES.length }, () =>
          store.query<{ current: string; session: string; role: string }>(sql`
            select current_user::text as current, session_user::text as session,
              current_setting('role') as role, pg_sleep(0.01)::text`),
        ),
      )
    ).flat();

    for (const row of rows) {
      expect(row.current).toBe(row.session);
      expect(row.role).toBe('none');
    }
    expect(rows.map((r) => r.current).some((user) => user.startsWith('m28_'))).toBe(false);
  });
});
