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
  scope: string;
  key_name: string;
  key_type: KeyType;
  rotation_schedule: RotationSchedule;
  status: SecretStatus;
  last_rotated_at: string | null;
  next_rotation_at: string | null;
  data_classification: DataClassification;
  /** True when `next_rotation_at` has passed; never for a retired secret. */
  rotation_due: boolean;
  /** The weekly review's OVERDUE / DUE_SOON / OK; always OK for a retired secret. */
  rotation_status: RotationReview;
  current_version: string | null;
}

/** The spec's "Secrets Status Response". */
export interface SecretsStatusResponse {
  secrets: SecretStatusEntry[];
  summary: {
    total_secrets: number;
    active: number;
    rotating: number;
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
