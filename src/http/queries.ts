import { sql } from 'drizzle-orm';

import type { M28Role } from '../domain/vocabularies.js';
import type { ProviderHealth, ProviderHealthResponse } from '../health/types.js';
import { toHealthResponse } from '../health/healthResponse.js';
import type { M28Store } from '../store/M28Store.js';

interface HealthRow {
  provider_name: string;
  service_type: string;
  status: ProviderHealth['status'];
  circuit_breaker_state: ProviderHealth['circuit_breaker_state'];
  enabled: boolean;
  maintenance_mode: boolean;
  response_time_ms: number | null;
  success_rate: string | number | null;
  failure_count: number;
  last_health_check: string | Date | null;
  circuit_breaker_next_attempt: string | Date | null;
  maintenance_until: string | Date | null;
  stale: boolean;
}

// Roles that may read provider_config, where a maintenance window's end is kept.
const CONFIG_READERS: readonly M28Role[] = ['m28_superadmin', 'm28_admin'];

const iso = (value: string | Date | null) =>
  value === null ? null : new Date(value).toISOString();

/**
 * The Provider Health Response from `provider_health_status`, read under `role`: what every
 * instance reported, as row-level security lets the role see it. `maintenance_until` comes
 * from `provider_config`, which only superadmin and admin may read; it is null for others.
 */
export async function readHealth(
  store: M28Store,
  role: M28Role,
  provider: string | undefined,
  staleAfterMs: number,
): Promise<ProviderHealthResponse> {
  const window = CONFIG_READERS.includes(role)
    ? sql`(select c.maintenance_until from m28.provider_config c
          where c.provider_name = h.provider_name and c.service_type = h.service_type
            and c.maintenance_mode)`
    : sql`null::timestamptz`;
  const rows = await store.withRole(role, (tx) =>
    store.query<HealthRow>(
      sql`select h.provider_name, h.service_type, h.status, h.circuit_breaker_state, h.enabled,
          h.maintenance_mode, h.response_time_ms, h.success_rate, h.failure_count,
          h.last_health_check, h.circuit_breaker_next_attempt, ${window} as maintenance_until,
          coalesce(h.last_health_check, h.updated_at)
            < now() - make_interval(secs => ${staleAfterMs / 1000}) as stale
        from m28.provider_health_status h
        where ${provider ?? null}::text is null or h.provider_name = ${provider ?? null}
        order by h.provider_name, h.service_type`,
      tx,
    ),
  );
  const providers: ProviderHealth[] = rows.map((row) => ({
    provider: row.provider_name,
    service_type: row.service_type,
    status: row.status,
    circuit_breaker_state: row.circuit_breaker_state,
    enabled: row.enabled,
    maintenance_mode: row.maintenance_mode,
    response_time_ms: row.response_time_ms,
    success_rate: row.success_rate === null ? null : Number(row.success_rate),
    failure_count: row.failure_count,
    last_health_check: iso(row.last_health_check),
    available: row.enabled && !row.maintenance_mode && row.circuit_breaker_state !== 'open',
    stale: row.stale,
    maintenance_until: iso(row.maintenance_until),
    circuit_breaker_next_attempt: iso(row.circuit_breaker_next_attempt),
  }));

  return toHealthResponse(providers);
}

/** One row of `GET /admin/providers/events`. */
export interface EventEntry {
  /** The row's bigserial id, as a string: it can outgrow a JSON number. */
  id: string;
  provider_name: string;
  service_type: string | null;
  event_type: string;
  severity: string;
  summary: string;
  details: unknown;
  actor: string | null;
  request_id: string | null;
  /** ISO 8601. */
  created_at: string;
}

/** Operational events, newest first, filtered, under `role`. Times are ISO 8601. */
export async function readEvents(
  store: M28Store,
  role: M28Role,
  filter: {
    provider?: string | undefined;
    severity?: string | undefined;
    since?: string | undefined;
    limit?: number | undefined;
  },
): Promise<EventEntry[]> {
  const provider = filter.provider ?? null;
  const severity = filter.severity ?? null;
  const since = filter.since ?? null;
  const rows = await store.withRole(role, (tx) =>
    store.query<EventEntry & { id: string | number; created_at: string | Date }>(
      sql`select id::text as id, provider_name, service_type, event_type, severity, summary,
          details, actor, request_id, created_at
        from m28.provider_operational_events
        where (${provider}::text is null or provider_name = ${provider})
          and (${severity}::text is null or severity::text = ${severity})
          and (${since}::timestamptz is null or created_at >= ${since}::timestamptz)
        order by created_at desc, id desc
        limit ${filter.limit ?? 100}`,
      tx,
    ),
  );

  // The drivers hand timestamps back in PostgreSQL's own text form; the API speaks ISO 8601.
  return rows.map((row) => ({ ...row, id: String(row.id), created_at: iso(row.created_at)! }));
}

/** One row of `GET /admin/secrets/rotations`. */
export interface RotationLogEntry {
  id: string;
  secret_config_id: string;
  rotation_type: string;
  status: string;
  initiated_by: string;
  /** ISO 8601. */
  initiated_at: string;
  request_id: string | null;
  /** ISO 8601, or null while the rotation is open. */
  completed_at: string | null;
  completed_by: string | null;
  previous_version: string | null;
  new_version: string | null;
  new_fingerprint: string | null;
  affected_services: string[];
  downtime_seconds: number | null;
  failure_reason: string | null;
}

/**
 * Rotation history, newest first, under `role`: a monitor sees completed rotations only.
 * Times are ISO 8601.
 */
export async function readRotations(
  store: M28Store,
  role: M28Role,
  filter: { scope?: string | undefined; key_name?: string | undefined; limit?: number | undefined },
): Promise<RotationLogEntry[]> {
  const scope = filter.scope ?? null;
  const keyName = filter.key_name ?? null;
  const rows = await store.withRole(role, (tx) =>
    store.query<RotationLogEntry & { initiated_at: string | Date; completed_at: unknown }>(
      sql`select l.id::text as id, l.secret_config_id::text as secret_config_id,
          l.rotation_type, l.status, l.initiated_by, l.initiated_at, l.request_id,
          l.completed_at, l.completed_by, l.previous_version, l.new_version, l.new_fingerprint,
          l.affected_services, l.downtime_seconds, l.failure_reason
        from m28.secrets_rotation_log l
        where (${scope}::text is null and ${keyName}::text is null) or exists (
            select 1 from m28.secrets_config sc
            where sc.id = l.secret_config_id
              and (${scope}::text is null or sc.scope = ${scope})
              and (${keyName}::text is null or sc.key_name = ${keyName}))
        order by l.initiated_at desc, l.id
        limit ${filter.limit ?? 100}`,
      tx,
    ),
  );

  return rows.map((row) => ({
    ...row,
    initiated_at: iso(row.initiated_at)!,
    completed_at: iso(row.completed_at as string | Date | null),
  }));
}
