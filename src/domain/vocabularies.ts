import { z } from 'zod';

/**
 * The kinds of secret M28 tracks. Each kind has a default rotation schedule and data
 * classification (see {@link KEY_TYPE_DEFAULTS}).
 */
export const KEY_TYPES = [
  'api_key',
  'secret_key',
  'private_key',
  'certificate',
  'token',
  'password',
] as const;

/** A kind of secret: one of {@link KEY_TYPES}. */
export type KeyType = (typeof KEY_TYPES)[number];

/** How often a secret is rotated. `manual` means the secret has no next rotation date. */
export const ROTATION_SCHEDULES = [
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'annual',
  'manual',
] as const;

/** A rotation schedule: one of {@link ROTATION_SCHEDULES}. */
export type RotationSchedule = (typeof ROTATION_SCHEDULES)[number];

/** Data classifications, from least to most sensitive. */
export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;

/** A data classification: one of {@link DATA_CLASSIFICATIONS}. */
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** Lifecycle status of a tracked secret. `rotating` while a rotation is open. */
export const SECRET_STATUSES = ['active', 'rotating', 'retired'] as const;

/** A secret status: one of {@link SECRET_STATUSES}. */
export type SecretStatus = (typeof SECRET_STATUSES)[number];

/**
 * Why a rotation happened. `rollback` is written by the rollback function only; it cannot
 * be started.
 */
export const ROTATION_TYPES = ['scheduled', 'emergency', 'manual', 'rollback'] as const;

/** A rotation type: one of {@link ROTATION_TYPES}. */
export type RotationType = (typeof ROTATION_TYPES)[number];

/** The rotation types a caller may start. */
export const STARTABLE_ROTATION_TYPES = ['scheduled', 'emergency', 'manual'] as const;

/** A rotation type that a caller may start: one of {@link STARTABLE_ROTATION_TYPES}. */
export type StartableRotationType = (typeof STARTABLE_ROTATION_TYPES)[number];

/** States of one rotation. Only `in_progress` is open; the others are final. */
export const ROTATION_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'] as const;

/** A rotation status: one of {@link ROTATION_STATUSES}. */
export type RotationStatus = (typeof ROTATION_STATUSES)[number];

/** Provider health levels, as in the spec's "Health Status Levels" table. */
export const HEALTH_STATUSES = [
  'healthy',
  'degraded',
  'unhealthy',
  'maintenance',
  'disabled',
] as const;

/** A provider health status: one of {@link HEALTH_STATUSES}. */
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Circuit breaker states. */
export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** A circuit breaker state: one of {@link BREAKER_STATES}. */
export type BreakerState = (typeof BREAKER_STATES)[number];

/** Severities of operational events, from least to most urgent. */
export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;

/** An operational event severity: one of {@link SEVERITIES}. */
export type Severity = (typeof SEVERITIES)[number];

/** Kinds of row in `provider_operational_events`. */
export const OPERATIONAL_EVENT_TYPES = [
  'breaker_open',
  'breaker_half_open',
  'breaker_close',
  'breaker_reset',
  'status_change',
  'toggle',
  'maintenance_start',
  'maintenance_end',
  'health_check_failed',
  'alert_raised',
  'alert_resolved',
] as const;

/** An operational event type: one of {@link OPERATIONAL_EVENT_TYPES}. */
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

/**
 * The PostgreSQL group roles of the access matrix. The library switches to one of them per
 * operation with `SET LOCAL ROLE`.
 */
export const M28_ROLES = [
  'm28_superadmin',
  'm28_admin',
  'm28_monitor',
  'm28_reader',
  'm28_client',
  'm28_system',
] as const;

/** A PostgreSQL role of the access matrix: one of {@link M28_ROLES}. */
export type M28Role = (typeof M28_ROLES)[number];

/** zod schema for {@link KeyType}. */
export const keyTypeSchema = z.enum(KEY_TYPES);
/** zod schema for {@link RotationSchedule}. */
export const rotationScheduleSchema = z.enum(ROTATION_SCHEDULES);
/** zod schema for {@link DataClassification}. */
export const dataClassificationSchema = z.enum(DATA_CLASSIFICATIONS);
/** zod schema for {@link StartableRotationType}. */
export const startableRotationTypeSchema = z.enum(STARTABLE_ROTATION_TYPES);
/** zod schema for {@link HealthStatus}. */
export const healthStatusSchema = z.enum(HEALTH_STATUSES);
/** zod schema for {@link Severity}. */
export const severitySchema = z.enum(SEVERITIES);
/** zod schema for {@link M28Role}. */
export const m28RoleSchema = z.enum(M28_ROLES);
