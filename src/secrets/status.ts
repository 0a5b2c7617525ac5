import { reviewRotation, type RotationReview } from '../domain/schedule.js';
import type {
  DataClassification,
  KeyType,
  RotationSchedule,
  SecretStatus,
} from '../domain/vocabularies.js';

/** A `secrets_config` row as the status query reads it. */
export interface SecretRow {
  scope: string;
  key_name: string;
  key_type: KeyType;
  rotation_schedule: RotationSchedule;
  status: SecretStatus;
  last_rotated_at: string | Date | null;
  next_rotation_at: string | Date | null;
  data_classification: DataClassification;
  current_version: string | null;
  now: string | Date;
}

/** One secret in the spec's "Secrets Status Response". */
export interface SecretStatusEntry {
  /** The provider the secret belongs to, such as `stripe`. */
  scope: string;
  /** The key's name within the scope, such as `secret_key`. */
  key_name: string;
  /** The kind of key. */
  key_type: KeyType;
  /** How often the secret is rotated. */
  rotation_schedule: RotationSchedule;
  /** `active`, `rotating` while a rotation is open, or `retired`. */
  status: SecretStatus;
  /** When the last rotation completed, as ISO 8601, or null if never. */
  last_rotated_at: string | null;
  /** When the next rotation is due, as ISO 8601, or null on the manual schedule. */
  next_rotation_at: string | null;
  /** How sensitive the secret is. */
  data_classification: DataClassification;
  /** True when `next_rotation_at` has passed; never for a retired secret. */
  rotation_due: boolean;
  /** The weekly review's OVERDUE / DUE_SOON / OK; always OK for a retired secret. */
  rotation_status: RotationReview;
  /** The current version's label, or null when there is none yet. */
  current_version: string | null;
}

/** The spec's "Secrets Status Response". */
export interface SecretsStatusResponse {
  /** Every secret the role can see, or those of one scope, by scope and key name. */
  secrets: SecretStatusEntry[];
  /** Counts of `secrets`. */
  summary: {
    /** Secrets in `secrets`. */
    total_secrets: number;
    /** Secrets whose status is `active`. */
    active: number;
    /** Secrets whose status is `rotating`. */
    rotating: number;
    /** Secrets whose `rotation_due` is true. */
    due_for_rotation: number;
  };
}

const iso = (value: string | Date | null) =>
  value === null ? null : new Date(value).toISOString();

/**
 * Shapes a row as the spec's JSON, judged against the database's clock. A retired secret is
 * never due: it cannot be rotated, and counting it would inflate `due_for_rotation`.
 */
export function toSecretStatus(row: SecretRow): SecretStatusEntry {
  const now = new Date(row.now);
  const next =
    row.next_rotation_at === null || row.status === 'retired'
      ? null
      : new Date(row.next_rotation_at);

  return {
    scope: row.scope,
    key_name: row.key_name,
    key_type: row.key_type,
    rotation_schedule: row.rotation_schedule,
    status: row.status,
    last_rotated_at: iso(row.last_rotated_at),
    next_rotation_at: iso(row.next_rotation_at),
    data_classification: row.data_classification,
    rotation_due: next !== null && next.getTime() <= now.getTime(),
    rotation_status: reviewRotation(next, now),
    current_version: row.current_version,
  };
}
