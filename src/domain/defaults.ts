import type { DataClassification, KeyType, RotationSchedule } from './vocabularies.js';

/** The schedule and classification a key type gets when a caller does not choose them. */
export interface KeyTypeDefault {
  /** How often the key is rotated. */
  readonly rotationSchedule: RotationSchedule;
  /** How sensitive the key is. */
  readonly dataClassification: DataClassification;
}

/**
 * Defaults per key type, from the spec's "Rotation Schedules (NIST-Aligned)" table.
 *
 * Two choices the spec leaves open, mirrored in SQL by
 * `m28.default_rotation_schedule()` and `m28.default_data_classification()`:
 * - `private_key` follows the key-type table (annual, restricted), not the classification
 *   table, which would rotate restricted keys quarterly.
 * - `certificate` has no row; it is annual (certificates expire, so `manual` would never
 *   remind anyone) and `public`, as in the classification table's examples.
 */
export const KEY_TYPE_DEFAULTS: Readonly<Record<KeyType, KeyTypeDefault>> = {
  api_key: { rotationSchedule: 'quarterly', dataClassification: 'confidential' },
  secret_key: { rotationSchedule: 'quarterly', dataClassification: 'restricted' },
  private_key: { rotationSchedule: 'annual', dataClassification: 'restricted' },
  certificate: { rotationSchedule: 'annual', dataClassification: 'public' },
  token: { rotationSchedule: 'monthly', dataClassification: 'restricted' },
  password: { rotationSchedule: 'quarterly', dataClassification: 'restricted' },
};

/** The spec's circuit breaker and health check defaults, applied per provider. */
export const PROVIDER_DEFAULTS = {
  /** Failures that open a breaker. */
  failureThreshold: 5,
  /** Seconds an open breaker waits before it lets a trial call through. */
  resetTimeoutSeconds: 300,
  /** Seconds between health checks. */
  healthCheckIntervalSeconds: 300,
} as const;
