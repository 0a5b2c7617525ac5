import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

import {
  BREAKER_STATES,
  DATA_CLASSIFICATIONS,
  HEALTH_STATUSES,
  KEY_TYPES,
  ROTATION_SCHEDULES,
  ROTATION_STATUSES,
  ROTATION_TYPES,
  SECRET_STATUSES,
  SEVERITIES,
} from '../domain/vocabularies.js';

/** The PostgreSQL schema that holds every M28 table, type and function. */
export const m28 = pgSchema('m28');

/** Database enum for key types. */
export const keyTypeEnum = m28.enum('key_type', KEY_TYPES);
/** Database enum for rotation schedules. */
export const rotationScheduleEnum = m28.enum('rotation_schedule', ROTATION_SCHEDULES);
/** Database enum for data classifications. */
export const dataClassificationEnum = m28.enum('data_classification', DATA_CLASSIFICATIONS);
/** Database enum for secret statuses. */
export const secretStatusEnum = m28.enum('secret_status', SECRET_STATUSES);
/** Database enum for rotation types. */
export const rotationTypeEnum = m28.enum('rotation_type', ROTATION_TYPES);
/** Database enum for rotation statuses. */
export const rotationStatusEnum = m28.enum('rotation_status', ROTATION_STATUSES);
/** Database enum for provider health statuses. */
export const healthStatusEnum = m28.enum('health_status', HEALTH_STATUSES);
/** Database enum for circuit breaker states. */
export const breakerStateEnum = m28.enum('breaker_state', BREAKER_STATES);
/** Database enum for operational event severities. */
export const severityEnum = m28.enum('severity', SEVERITIES);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** A name the spec treats as an identifier: 1 to 100 characters, not only blanks. */
const nameCheck = (column: string) =>
  sql.raw(`char_length(${column}) between 1 and 100 and btrim(${column}) <> ''`);

/**
 * Lifecycle metadata of one secret. Never its value: only versions and fingerprints.
 * `rotation_schedule`, `data_classification` and `next_rotation_at` are filled from the key
 * type by a database trigger when an insert leaves them out.
 */
export const secretsConfig = m28.table(
  'secrets_config',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    scope: text('scope').notNull(),
    keyName: text('key_name').notNull(),
    keyType: keyTypeEnum('key_type').notNull(),
    rotationSchedule: rotationScheduleEnum('rotation_schedule').notNull(),
    dataClassification: dataClassificationEnum('data_classification').notNull(),
    status: secretStatusEnum('status').notNull().default('active'),
    currentVersion: text('current_version'),
    currentFingerprint: text('current_fingerprint'),
    previousVersion: text('previous_version'),
    previousFingerprint: text('previous_fingerprint'),
    lastRotatedAt: timestamp('last_rotated_at', { withTimezone: true }),
    nextRotationAt: timestamp('next_rotation_at', { withTimezone: true }),
    description: text('description'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('secrets_config_scope_key_name_key').on(t.scope, t.keyName),
    index('secrets_config_due_idx')
      .on(t.nextRotationAt)
      .where(sql`status = 'active' and next_rotation_at is not null`),
    check('secrets_config_scope_check', nameCheck('scope')),
    check('secrets_config_key_name_check', nameCheck('key_name')),
  ],
);

/** One rotation of one secret: who started it, how it ended, and the versions involved. */
export const secretsRotationLog = m28.table(
  'secrets_rotation_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    secretConfigId: uuid('secret_config_id')
      .notNull()
      .references(() => secretsConfig.id, { onDelete: 'restrict' }),
    rotationType: rotationTypeEnum('rotation_type').notNull(),
    status: rotationStatusEnum('status').notNull().default('in_progress'),
    initiatedBy: text('initiated_by').notNull(),
    initiatedAt: timestamp('initiated_at', { withTimezone: true }).notNull().defaultNow(),
    requestId: text('request_id'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    completedBy: text('completed_by'),
    previousVersion: text('previous_version'),
    previousFingerprint: text('previous_fingerprint'),
    newVersion: text('new_version'),
    newFingerprint: text('new_fingerprint'),
    affectedServices: text('affected_services')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    downtimeSeconds: integer('downtime_seconds'),
    failureReason: text('failure_reason'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('secrets_rotation_log_one_open_idx')
      .on(t.secretConfigId)
      .where(sql`status = 'in_progress'`),
    index('secrets_rotation_log_secret_idx').on(t.secretConfigId, t.initiatedAt),
    index('secrets_rotation_log_initiated_at_idx').on(t.initiatedAt),
    check('secrets_rotation_log_downtime_check', sql`downtime_seconds >= 0`),
    check('secrets_rotation_log_initiated_by_check', nameCheck('initiated_by')),
  ],
);

/** Current health of one (provider, service type), including its circuit breaker. */
export const providerHealthStatus = m28.table(
  'provider_health_status',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerName: text('provider_name').notNull(),
    serviceType: text('service_type').notNull(),
    status: healthStatusEnum('status').notNull().default('healthy'),
    enabled: boolean('enabled').notNull().default(true),
    maintenanceMode: boolean('maintenance_mode').notNull().default(false),
    circuitBreakerState: breakerStateEnum('circuit_breaker_state').notNull().default('closed'),
    circuitBreakerFailures: integer('circuit_breaker_failures').notNull().default(0),
    circuitBreakerOpenedAt: timestamp('circuit_breaker_opened_at', { withTimezone: true }),
    circuitBreakerNextAttempt: timestamp('circuit_breaker_next_attempt', { withTimezone: true }),
    responseTimeMs: integer('response_time_ms'),
    successRate: numeric('success_rate', { precision: 5, scale: 4, mode: 'number' }),
    failureCount: integer('failure_count').notNull().default(0),
    totalCalls: bigint('total_calls', { mode: 'number' }).notNull().default(0),
    totalSuccesses: bigint('total_successes', { mode: 'number' }).notNull().default(0),
    totalFailures: bigint('total_failures', { mode: 'number' }).notNull().default(0),
    totalRejects: bigint('total_rejects', { mode: 'number' }).notNull().default(0),
    totalTimeouts: bigint('total_timeouts', { mode: 'number' }).notNull().default(0),
    lastHealthCheck: timestamp('last_health_check', { withTimezone: true }),
    healthCheckLeaseUntil: timestamp('health_check_lease_until', { withTimezone: true }),
    healthCheckLeaseOwner: text('health_check_lease_owner'),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('provider_health_status_provider_service_key').on(t.providerName, t.serviceType),
    check('provider_health_status_provider_name_check', nameCheck('provider_name')),
    check('provider_health_status_service_type_check', nameCheck('service_type')),
    check('provider_health_status_failures_check', sql`circuit_breaker_failures >= 0`),
    check('provider_health_status_success_rate_check', sql`success_rate between 0 and 1`),
  ],
);

/** The operational timeline: breaker transitions, toggles, maintenance, failed checks. */
export const providerOperationalEvents = m28.table(
  'provider_operational_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    providerName: text('provider_name').notNull(),
    serviceType: text('service_type'),
    eventType: text('event_type').notNull(),
    severity: severityEnum('severity').notNull(),
    summary: text('summary').notNull(),
    details: jsonb('details').notNull().default({}),
    actor: text('actor'),
    requestId: text('request_id'),
    eventKey: uuid('event_key'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('provider_operational_events_event_key_key').on(t.eventKey),
    index('provider_operational_events_created_at_idx').on(t.createdAt),
    index('provider_operational_events_provider_idx').on(t.providerName, t.createdAt),
    check(
      'provider_operational_events_event_type_check',
      sql`event_type in ('breaker_open', 'breaker_half_open', 'breaker_close', 'breaker_reset',
        'status_change', 'toggle', 'maintenance_start', 'maintenance_end',
        'health_check_failed', 'alert_raised', 'alert_resolved')`,
    ),
  ],
);

/** Operator-controlled settings of one (provider, service type): toggles and thresholds. */
export const providerConfig = m28.table(
  'provider_config',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerName: text('provider_name').notNull(),
    serviceType: text('service_type').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    maintenanceMode: boolean('maintenance_mode').notNull().default(false),
    maintenanceUntil: timestamp('maintenance_until', { withTimezone: true }),
    reason: text('reason'),
    toggledBy: text('toggled_by'),
    toggledAt: timestamp('toggled_at', { withTimezone: true }),
    circuitBreakerFailureThreshold: integer('circuit_breaker_failure_threshold')
      .notNull()
      .default(5),
    circuitBreakerResetTimeout: integer('circuit_breaker_reset_timeout').notNull().default(300),
    healthCheckInterval: integer('health_check_interval').notNull().default(300),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('provider_config_provider_service_key').on(t.providerName, t.serviceType),
    check('provider_config_provider_name_check', nameCheck('provider_name')),
    check('provider_config_service_type_check', nameCheck('service_type')),
    check('provider_config_threshold_check', sql`circuit_breaker_failure_threshold > 0`),
    check('provider_config_reset_timeout_check', sql`circuit_breaker_reset_timeout > 0`),
    check('provider_config_interval_check', sql`health_check_interval > 0`),
  ],
);

/** Periodic samples: availability, success rate, response times, rotation compliance. */
export const operationalMetrics = m28.table(
  'operational_metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    metricName: text('metric_name').notNull(),
    providerName: text('provider_name'),
    serviceType: text('service_type'),
    value: doublePrecision('value').notNull(),
    labels: jsonb('labels').notNull().default({}),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('operational_metrics_name_recorded_at_idx').on(t.metricName, t.recordedAt)],
);

/**
 * Append-only audit trail. Rows are written only by `m28.append_audit()`, in the same
 * transaction as the change they describe; no role may update or delete them.
 */
export const auditLog = m28.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id'),
    reason: text('reason'),
    requestId: text('request_id'),
    meta: jsonb('meta').notNull().default({}),
    dbRole: text('db_role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_created_at_idx').on(t.createdAt),
    index('audit_log_entity_idx').on(t.entity, t.entityId),
  ],
);

/** Migrations applied by `migrate()`, one row each, inserted in the migration's transaction. */
export const schemaMigrations = m28.table('schema_migrations', {
  version: integer('version').primaryKey(),
  name: text('name').notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});
