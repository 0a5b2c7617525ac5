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
  primaryKey,
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
    /** The secret's id. */
    id: uuid('id').primaryKey().defaultRandom(),
    /** The provider the secret belongs to, such as `stripe`. */
    scope: text('scope').notNull(),
    /** The key's name within the scope, such as `secret_key`; unique per scope. */
    keyName: text('key_name').notNull(),
    /** The kind of key. */
    keyType: keyTypeEnum('key_type').notNull(),
    /** How often the secret is rotated; from the key type when left out. */
    rotationSchedule: rotationScheduleEnum('rotation_schedule').notNull(),
    /** How sensitive the secret is; from the key type when left out. */
    dataClassification: dataClassificationEnum('data_classification').notNull(),
    /**
     * `active`, `rotating` while a rotation is open, or `retired`.
     * @defaultValue `'active'`
     */
    status: secretStatusEnum('status').notNull().default('active'),
    /** The current version's label, such as `v2.1`. */
    currentVersion: text('current_version'),
    /** The current version's fingerprint. Never the secret. */
    currentFingerprint: text('current_fingerprint'),
    /** The version before, which a rollback makes current again. */
    previousVersion: text('previous_version'),
    /** The previous version's fingerprint. */
    previousFingerprint: text('previous_fingerprint'),
    /** When the last rotation completed. */
    lastRotatedAt: timestamp('last_rotated_at', { withTimezone: true }),
    /** When the next rotation is due; null on the manual schedule. */
    nextRotationAt: timestamp('next_rotation_at', { withTimezone: true }),
    /** Free text for operators. Never the secret. */
    description: text('description'),
    /** When the row was inserted. */
    createdAt: createdAt(),
    /** When the row last changed. */
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('secrets_config_scope_key_name_key').on(t.scope, t.keyName),
    index('secrets_config_due_idx')
      .on(t.nextRotationAt)
      .where(sql`status = 'active' and next_rotation_at is not null`),
    // The scan's second query: secrets still late while a rotation of them is open.
    index('secrets_config_rotating_idx')
      .on(t.nextRotationAt)
      .where(sql`status = 'rotating' and next_rotation_at is not null`),
    check('secrets_config_scope_check', nameCheck('scope')),
    check('secrets_config_key_name_check', nameCheck('key_name')),
  ],
);

/** One rotation of one secret: who started it, how it ended, and the versions involved. */
export const secretsRotationLog = m28.table(
  'secrets_rotation_log',
  {
    /** The rotation id. */
    id: uuid('id').primaryKey().defaultRandom(),
    /** The secret rotated: a `secrets_config` id. */
    secretConfigId: uuid('secret_config_id')
      .notNull()
      .references(() => secretsConfig.id, { onDelete: 'restrict' }),
    /** `scheduled`, `emergency`, `manual` or `rollback`. */
    rotationType: rotationTypeEnum('rotation_type').notNull(),
    /**
     * `in_progress` until it is completed, failed or cancelled; one open per secret.
     * @defaultValue `'in_progress'`
     */
    status: rotationStatusEnum('status').notNull().default('in_progress'),
    /** Who started it. */
    initiatedBy: text('initiated_by').notNull(),
    /** When it started. */
    initiatedAt: timestamp('initiated_at', { withTimezone: true }).notNull().defaultNow(),
    /** The request or incident it belongs to. */
    requestId: text('request_id'),
    /** When it ended. */
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** Who completed, failed or cancelled it. */
    completedBy: text('completed_by'),
    /** The version current when it started. */
    previousVersion: text('previous_version'),
    /** That version's fingerprint. */
    previousFingerprint: text('previous_fingerprint'),
    /** The version it made current. */
    newVersion: text('new_version'),
    /** That version's fingerprint. */
    newFingerprint: text('new_fingerprint'),
    /**
     * The services that took the new version.
     * @defaultValue an empty array
     */
    affectedServices: text('affected_services')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Seconds of downtime during the switch: 0 or more. */
    downtimeSeconds: integer('downtime_seconds'),
    /** Why it failed or was cancelled; for a rollback, its reason. */
    failureReason: text('failure_reason'),
    /** For a rotation the scheduler runs itself: past this, a scan fails it as abandoned. */
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
    /** The row's id. */
    id: uuid('id').primaryKey().defaultRandom(),
    /** Provider name. */
    providerName: text('provider_name').notNull(),
    /** Service type. */
    serviceType: text('service_type').notNull(),
    /**
     * The derived status; toggles own `disabled` and `maintenance`.
     * @defaultValue `'healthy'`
     */
    status: healthStatusEnum('status').notNull().default('healthy'),
    /**
     * Whether operators let calls through, as the last toggle set it.
     * @defaultValue true
     */
    enabled: boolean('enabled').notNull().default(true),
    /**
     * Whether the provider is in maintenance, as the last toggle set it.
     * @defaultValue false
     */
    maintenanceMode: boolean('maintenance_mode').notNull().default(false),
    /**
     * The breaker's state, as last reported or reset.
     * @defaultValue `'closed'`
     */
    circuitBreakerState: breakerStateEnum('circuit_breaker_state').notNull().default('closed'),
    /**
     * Consecutive failures counted toward opening the breaker.
     * @defaultValue 0
     */
    circuitBreakerFailures: integer('circuit_breaker_failures').notNull().default(0),
    /** When the breaker opened, while it is open. */
    circuitBreakerOpenedAt: timestamp('circuit_breaker_opened_at', { withTimezone: true }),
    /** When an open breaker lets the next trial call through. */
    circuitBreakerNextAttempt: timestamp('circuit_breaker_next_attempt', { withTimezone: true }),
    /** Average response time of recent successful calls, in milliseconds. */
    responseTimeMs: integer('response_time_ms'),
    /** Success rate of recent calls and checks, from 0 to 1. */
    successRate: numeric('success_rate', { precision: 5, scale: 4, mode: 'number' }),
    /**
     * The reporting breaker's consecutive failures.
     * @defaultValue 0
     */
    failureCount: integer('failure_count').notNull().default(0),
    /**
     * Calls made through the breakers, refused ones included, summed over every instance.
     * @defaultValue 0
     */
    totalCalls: bigint('total_calls', { mode: 'number' }).notNull().default(0),
    /**
     * Calls the provider answered, summed over every instance.
     * @defaultValue 0
     */
    totalSuccesses: bigint('total_successes', { mode: 'number' }).notNull().default(0),
    /**
     * Calls that failed against the provider, timeouts included, summed over every instance.
     * @defaultValue 0
     */
    totalFailures: bigint('total_failures', { mode: 'number' }).notNull().default(0),
    /**
     * Calls refused without reaching the provider, summed over every instance.
     * @defaultValue 0
     */
    totalRejects: bigint('total_rejects', { mode: 'number' }).notNull().default(0),
    /**
     * Calls that timed out, summed over every instance.
     * @defaultValue 0
     */
    totalTimeouts: bigint('total_timeouts', { mode: 'number' }).notNull().default(0),
    /** When the last health check ran. */
    lastHealthCheck: timestamp('last_health_check', { withTimezone: true }),
    /** Until when `health_check_lease_owner` may run the health checks. */
    healthCheckLeaseUntil: timestamp('health_check_lease_until', { withTimezone: true }),
    /** The instance that holds, or last held, the health-check lease. */
    healthCheckLeaseOwner: text('health_check_lease_owner'),
    /** When the row last changed. */
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

/**
 * Each instance's last report of its breaker for a provider. Breakers live in each process;
 * `record_provider_snapshots()` keeps one row per instance here and writes the worst fresh
 * report (open, then half-open, then closed) into `provider_health_status`, so an instance
 * whose breaker is closed cannot hide another's open one. Not in the M28 spec: an addition.
 */
export const providerBreakerReports = m28.table(
  'provider_breaker_reports',
  {
    /** Provider name. */
    providerName: text('provider_name').notNull(),
    /** Service type. */
    serviceType: text('service_type').notNull(),
    /** The reporting instance: a random id per `createOps()`. */
    instanceId: text('instance_id').notNull(),
    /** The status the instance derived: healthy, degraded or unhealthy. */
    status: healthStatusEnum('status').notNull(),
    /** The instance's breaker state. */
    circuitBreakerState: breakerStateEnum('circuit_breaker_state').notNull(),
    /** The instance's consecutive failures. */
    circuitBreakerFailures: integer('circuit_breaker_failures').notNull().default(0),
    /** When the instance's breaker opened, while open. */
    circuitBreakerOpenedAt: timestamp('circuit_breaker_opened_at', { withTimezone: true }),
    /** When the instance's open breaker lets a trial through. */
    circuitBreakerNextAttempt: timestamp('circuit_breaker_next_attempt', { withTimezone: true }),
    /** Until when the report counts; an open breaker's also counts until its next attempt. */
    freshUntil: timestamp('fresh_until', { withTimezone: true }).notNull(),
    /** When the instance last reported. */
    reportedAt: timestamp('reported_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.providerName, t.serviceType, t.instanceId] }),
    check('provider_breaker_reports_failures_check', sql`circuit_breaker_failures >= 0`),
  ],
);

/** The operational timeline: breaker transitions, toggles, maintenance, failed checks. */
export const providerOperationalEvents = m28.table(
  'provider_operational_events',
  {
    /** The event's id, in order of insertion. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Provider name. */
    providerName: text('provider_name').notNull(),
    /** Service type. */
    serviceType: text('service_type'),
    /** What happened, such as `breaker_open`, `toggle` or `alert_raised`. */
    eventType: text('event_type').notNull(),
    /** How serious the event is. */
    severity: severityEnum('severity').notNull(),
    /** One line for humans. */
    summary: text('summary').notNull(),
    /**
     * The event's particulars, as JSON.
     * @defaultValue `{}`
     */
    details: jsonb('details').notNull().default({}),
    /** Who caused it, when someone did. */
    actor: text('actor'),
    /** The request or incident it belongs to. */
    requestId: text('request_id'),
    /** Makes a retried batch idempotent: an event is written once per key. */
    eventKey: uuid('event_key'),
    /** When the event happened. */
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
    /** The row's id. */
    id: uuid('id').primaryKey().defaultRandom(),
    /** Provider name. */
    providerName: text('provider_name').notNull(),
    /** Service type. */
    serviceType: text('service_type').notNull(),
    /**
     * Whether calls may reach the provider.
     * @defaultValue true
     */
    enabled: boolean('enabled').notNull().default(true),
    /**
     * Whether the provider is in maintenance: calls are blocked.
     * @defaultValue false
     */
    maintenanceMode: boolean('maintenance_mode').notNull().default(false),
    /** When maintenance ends by itself, if it has an expiry. */
    maintenanceUntil: timestamp('maintenance_until', { withTimezone: true }),
    /** Why the last toggle was made. */
    reason: text('reason'),
    /** Who made the last toggle. */
    toggledBy: text('toggled_by'),
    /** When the last toggle was made. */
    toggledAt: timestamp('toggled_at', { withTimezone: true }),
    /**
     * Consecutive failures that open the breaker.
     * @defaultValue 5
     */
    circuitBreakerFailureThreshold: integer('circuit_breaker_failure_threshold')
      .notNull()
      .default(5),
    /**
     * Seconds an open breaker waits before it lets a trial call through.
     * @defaultValue 300
     */
    circuitBreakerResetTimeout: integer('circuit_breaker_reset_timeout').notNull().default(300),
    /**
     * Seconds between health checks.
     * @defaultValue 300
     */
    healthCheckInterval: integer('health_check_interval').notNull().default(300),
    /** When the row was inserted. */
    createdAt: createdAt(),
    /** When the row last changed. */
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
    /** The sample's id, in order of insertion. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The metric, such as `availability`, `success_rate` or `rotation_compliance`. */
    metricName: text('metric_name').notNull(),
    /** Provider name, for a per-provider metric. */
    providerName: text('provider_name'),
    /** Service type, for a per-provider metric. */
    serviceType: text('service_type'),
    /** The measured value. */
    value: doublePrecision('value').notNull(),
    /**
     * More about the sample, as JSON, such as the interval or the call count.
     * @defaultValue `{}`
     */
    labels: jsonb('labels').notNull().default({}),
    /** When the sample was taken. */
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
    /** The row's id, in order of insertion. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Who made the change. */
    actor: text('actor').notNull(),
    /** What was done, such as `provider.toggle` or `secret_rotation.start`. */
    action: text('action').notNull(),
    /** The table of the row changed, such as `provider_config`. */
    entity: text('entity').notNull(),
    /** The id of the row changed. */
    entityId: text('entity_id'),
    /** Why, when the change has a reason. */
    reason: text('reason'),
    /** The request or incident the change belongs to. */
    requestId: text('request_id'),
    /**
     * The change's particulars, as JSON, such as the state before and after.
     * @defaultValue `{}`
     */
    meta: jsonb('meta').notNull().default({}),
    /** The PostgreSQL role the change ran as. */
    dbRole: text('db_role').notNull(),
    /** When the change was made. */
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_created_at_idx').on(t.createdAt),
    index('audit_log_entity_idx').on(t.entity, t.entityId),
  ],
);

/** Migrations applied by `migrate()`, one row each, inserted in the migration's transaction. */
export const schemaMigrations = m28.table('schema_migrations', {
  /** The migration's version: its index in Drizzle's journal. */
  version: integer('version').primaryKey(),
  /** The migration's name, such as `0000_tables`. */
  name: text('name').notNull(),
  /** When it was applied. */
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});
