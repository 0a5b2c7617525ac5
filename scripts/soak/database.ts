/**
 * The parent's side of the soak database: create, migrate and seed it; make secrets due
 * again; terminate every connection to it; read what the instances persisted; drop it.
 * Everything runs as the DATABASE_URL user, a superuser that row-level security lets read.
 */
import { randomBytes } from 'node:crypto';

import postgres from 'postgres';

import { connectPostgres } from '../../src/index.js';
import { AUTO_KEYS, AUTO_SCOPE, MANUAL_KEYS, MANUAL_SCOPE } from './plan.js';

type Sql = ReturnType<typeof postgres>;

export interface SoakDatabase {
  readonly name: string;
  readonly url: string;
  /** A connection to the soak database; it reconnects after the fault. */
  readonly sql: Sql;
  /** Per secret id: how many times it was made due (registration included). */
  readonly madeDue: Map<string, number>;
  drop(): Promise<void>;
}

const quiet = { onnotice: () => undefined };

/** `create database m28_soak_<random>`, migrated, with the scopes' secrets due. */
export async function createSoakDatabase(baseUrl: string): Promise<SoakDatabase> {
  const name = `m28_soak_${randomBytes(8).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, ...quiet });
  await admin.unsafe(`create database ${name}`);
  const parsed = new URL(baseUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  let sql: Sql | undefined;
  const drop = async () => {
    await sql?.end({ timeout: 5 }).catch(() => undefined);
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end({ timeout: 5 });
  };
  try {
    const store = await connectPostgres(url, { max: 1, applicationName: 'm28-soak-migrate' });
    await store.migrate().finally(() => store.close());
    sql = postgres(url, { max: 2, ...quiet });
    const madeDue = await seed(sql);

    return { name, url, sql, madeDue, drop };
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
}

// As the superuser, as test/multi/rotations.test.ts does: due an hour ago, a second apart.
async function seed(sql: Sql): Promise<Map<string, number>> {
  const keys = [
    ...AUTO_KEYS.map((key) => [AUTO_SCOPE, key]),
    ...MANUAL_KEYS.map((key) => [MANUAL_SCOPE, key]),
  ];
  const madeDue = new Map<string, number>();
  for (const [i, [scope, key]] of keys.entries()) {
    const [row] = await sql<{ id: string }[]>`
      insert into m28.secrets_config (scope, key_name, key_type, next_rotation_at)
      values (${scope!}, ${key!}, 'api_key', now() - interval '1 hour' - ${i} * interval '1 s')
      returning id::text`;
    madeDue.set(row!.id, 1);
  }

  return madeDue;
}

/** Makes every rotated (active, not yet due) secret due again; counts it per secret. */
export async function makeDue(db: SoakDatabase): Promise<number> {
  const rows = await db.sql<{ id: string }[]>`
    update m28.secrets_config set next_rotation_at = now() - interval '1 second'
    where status = 'active' and next_rotation_at > now()
    returning id::text`;
  for (const { id } of rows) {
    db.madeDue.set(id, (db.madeDue.get(id) ?? 0) + 1);
  }

  return rows.length;
}

/** When the database fault strikes: any time, or only when a transaction is open. */
export type FaultMode = 'idle' | 'mid-transaction';

/**
 * pg_terminate_backend() of every connection to `name`, from a connection elsewhere. It
 * waits (at most `waitMs`) for the moment the mode asks for, then terminates them all in
 * that statement. `mid-transaction` strikes while one connection is inside a transaction
 * between two statements, the worst moment for a client: postgres.js 3.4.9 alone would then
 * crash its process (porsager/postgres#1154), which the store's transactions prevent.
 * `idle` strikes while none is in a transaction.
 */
export async function terminateAll(
  baseUrl: string,
  name: string,
  mode: FaultMode = 'mid-transaction',
  waitMs = 3000,
): Promise<{ terminated: number; midTransaction: boolean }> {
  const admin = postgres(baseUrl, { max: 1, ...quiet });
  const midTransaction = mode === 'mid-transaction';
  const kill = (waitForMoment: boolean) => admin<{ ok: boolean }[]>`
    with s as (
      select pid, state from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid())
    select pg_terminate_backend(pid) as ok from s
    where not ${waitForMoment}
      or (${midTransaction} and exists (select 1 from s where state = 'idle in transaction'))
      or (not ${midTransaction} and not exists (select 1 from s where state <> 'idle'))`;
  try {
    const until = Date.now() + waitMs;
    // One statement each, so each reads pg_stat_activity afresh; bounded in count and time.
    for (let attempt = 0; attempt < 100_000 && Date.now() < until; attempt += 1) {
      const rows = await kill(true);
      if (rows.length > 0) {
        return { terminated: rows.filter((row) => row.ok).length, midTransaction };
      }
    }
    const rows = await kill(false);

    return { terminated: rows.filter((row) => row.ok).length, midTransaction: false };
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Secrets with more than one open rotation right now: always none, or a bug. */
export async function duplicateOpenRotations(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select secret_config_id from m28.secrets_rotation_log where status = 'in_progress'
      group by secret_config_id having count(*) > 1) as d`;

  return row?.n ?? 0;
}

export interface Persisted {
  health: Map<string, Record<string, number>>;
  transitions: Map<string, { open: number; close: number }>;
  rotations: { secretId: string; label: string; completed: number; open: number }[];
  byStatus: Record<string, number>;
  /** Why rotations failed, with how many each. */
  failureReasons: Record<string, number>;
}

export async function readPersisted(sql: Sql): Promise<Persisted> {
  const health = new Map<string, Record<string, number>>();
  for (const row of await sql<Record<string, string>[]>`
    select provider_name || '/' || service_type as key, total_calls, total_successes,
      total_failures, total_rejects, total_timeouts from m28.provider_health_status`) {
    const { key, ...totals } = row;
    health.set(
      key!,
      Object.fromEntries(Object.entries(totals).map(([field, value]) => [field, Number(value)])),
    );
  }
  const transitions = new Map<string, { open: number; close: number }>();
  for (const row of await sql<{ key: string; open: number; close: number }[]>`
    select provider_name || '/' || service_type as key,
      count(*) filter (where event_type = 'breaker_open')::int as open,
      count(*) filter (where event_type = 'breaker_close')::int as close
    from m28.provider_operational_events group by 1`) {
    transitions.set(row.key, { open: row.open, close: row.close });
  }
  const rotations = await sql<
    { secretId: string; label: string; completed: number; open: number }[]
  >`
    select sc.id::text as "secretId", sc.scope || '/' || sc.key_name as label,
      count(l.id) filter (where l.status = 'completed')::int as completed,
      count(l.id) filter (where l.status = 'in_progress')::int as open
    from m28.secrets_config sc left join m28.secrets_rotation_log l on l.secret_config_id = sc.id
    group by sc.id order by label`;
  const byStatus: Record<string, number> = {};
  for (const row of await sql<{ status: string; n: number }[]>`
    select status::text, count(*)::int as n from m28.secrets_rotation_log group by 1`) {
    byStatus[row.status] = row.n;
  }

  const failureReasons: Record<string, number> = {};
  for (const row of await sql<{ reason: string; n: number }[]>`
    select coalesce(failure_reason, '') as reason, count(*)::int as n
    from m28.secrets_rotation_log where status = 'failed' group by 1`) {
    failureReasons[row.reason] = row.n;
  }

  return { health, transitions, rotations: [...rotations], byStatus, failureReasons };
}
