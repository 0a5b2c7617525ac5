import { createHash, randomUUID } from 'node:crypto';

import { sql, type SQL } from 'drizzle-orm';

import type { KeyType, M28Role, M28Store } from '../../src/index.js';

/** Shared fixtures of the rotation function tests: seeding, calls, and reads as superuser. */

export const fp = (label: string) => `sha256:${createHash('sha256').update(label).digest('hex')}`;

export interface SeedOptions {
  keyType?: KeyType;
  version?: string | null;
  previous?: string | null;
  due?: boolean;
  schedule?: string;
  rotatedDaysAgo?: number;
}

/** Inserts a secret as the superuser and returns its id. */
export async function seedSecret(store: M28Store, options: SeedOptions = {}): Promise<string> {
  const { keyType = 'api_key', version = 'v1', previous = null, due = false } = options;
  const daysAgo = options.rotatedDaysAgo ?? 0;
  const [row] = await store.query<{ id: string }>(sql`
    insert into m28.secrets_config (scope, key_name, key_type, rotation_schedule,
      current_version, current_fingerprint, previous_version, previous_fingerprint,
      last_rotated_at, next_rotation_at)
    values (${`scope_${randomUUID().slice(0, 8)}`}, 'signing', ${keyType}::m28.key_type,
      ${options.schedule ?? null}::m28.rotation_schedule,
      ${version}::text, ${version === null ? null : fp(version)}::text,
      ${previous}::text, ${previous === null ? null : fp(previous)}::text,
      now() - make_interval(days => ${daysAgo}::int),
      case when ${due}::boolean then now() - interval '1 day' end)
    returning id`);

  return row!.id;
}

export function asRole<T>(store: M28Store, role: M28Role, query: SQL): Promise<T[]> {
  return store.withRole(role, (tx) => store.query<T>(query, tx));
}

export const startSql = (
  id: string,
  type = 'manual',
  force = true,
  requestId: string | null = null,
) =>
  sql`select m28.start_secret_rotation(${id}::uuid, ${type}::text, 'alice'::text,
    ${requestId}::text, ${force}::boolean) as id`;

export const completeSql = (rotationId: string, version: string) =>
  sql`select m28.complete_secret_rotation(${rotationId}::uuid, ${version}::text,
    ${fp(version)}::text, array['api', 'webhooks']::text[], 3, 'bob'::text)`;

export async function start(
  store: M28Store,
  id: string,
  role: M28Role = 'm28_admin',
): Promise<string> {
  const [row] = await asRole<{ id: string }>(store, role, startSql(id, 'manual', true, 'req-1'));

  return row!.id;
}

export interface SecretState {
  status: string;
  current_version: string | null;
  current_fingerprint: string | null;
  previous_version: string | null;
  previous_fingerprint: string | null;
  last_rotated: number;
  next_rotation: number | null;
  next_matches_schedule: boolean;
}

export async function secretState(store: M28Store, id: string): Promise<SecretState> {
  const [row] = await store.query<SecretState>(sql`
    select status::text, current_version, current_fingerprint, previous_version,
      previous_fingerprint, extract(epoch from last_rotated_at)::float8 as last_rotated,
      extract(epoch from next_rotation_at)::float8 as next_rotation,
      next_rotation_at is not distinct from
        m28.next_rotation_after(rotation_schedule, last_rotated_at) as next_matches_schedule
    from m28.secrets_config where id = ${id}::uuid`);

  return row!;
}

export async function rotations(store: M28Store, secretId: string) {
  return store.query<Record<string, unknown>>(sql`
    select id::text, rotation_type::text, status::text, initiated_by, request_id, completed_by,
      previous_version, previous_fingerprint, new_version, new_fingerprint, affected_services,
      downtime_seconds, failure_reason
    from m28.secrets_rotation_log where secret_config_id = ${secretId}::uuid
    order by initiated_at, completed_at`);
}

export interface AuditRow {
  actor: string;
  action: string;
  entity: string;
  reason: string | null;
  request_id: string | null;
  db_role: string;
  meta: { before: Record<string, unknown>; after: Record<string, unknown> };
}

export async function auditFor(store: M28Store, entityId: string): Promise<AuditRow[]> {
  const rows = await store.query<AuditRow & { meta: string }>(sql`
    select actor, action, entity, reason, request_id, db_role, meta::text as meta
    from m28.audit_log where entity_id = ${entityId} order by id`);

  return rows.map((row) => ({ ...row, meta: JSON.parse(row.meta) as AuditRow['meta'] }));
}

/** Every M28 table but schema_migrations. */
export const M28_TABLES = [
  'secrets_config',
  'secrets_rotation_log',
  'provider_health_status',
  'provider_breaker_reports',
  'provider_operational_events',
  'provider_config',
  'operational_metrics',
  'audit_log',
] as const;

/** Row counts of every M28 table, read as the superuser. */
export async function tableCounts(store: M28Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of M28_TABLES) {
    const [row] = await store.query<{ n: number }>(
      sql`select count(*)::int as n from ${sql.identifier('m28')}.${sql.identifier(table)}`,
    );
    counts[table] = row!.n;
  }

  return counts;
}
