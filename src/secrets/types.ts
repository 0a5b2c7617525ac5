import type {
  DataClassification,
  KeyType,
  M28Role,
  RotationSchedule,
  RotationStatus,
  RotationType,
  StartableRotationType,
} from '../domain/vocabularies.js';

/** Input of `register()`. */
export interface RegisterSecretInput {
  /** The provider the secret belongs to, such as `stripe`. */
  readonly scope: string;
  /** The key's name within the scope, such as `secret_key`. */
  readonly keyName: string;
  /** The kind of key; it sets the default schedule and classification. */
  readonly keyType: KeyType;
  /** Overrides the key type's default schedule. */
  readonly rotationSchedule?: RotationSchedule;
  /** Overrides the key type's default classification. */
  readonly dataClassification?: DataClassification;
  /** Free text for operators. Never the secret. */
  readonly description?: string;
  /** @defaultValue `'system'` */
  readonly actor?: string;
  /** The role to run as; the manager's role by default. */
  readonly role?: M28Role;
}

/** Input of `startRotation()`. */
export interface StartRotationInput {
  readonly scope: string;
  readonly keyName: string;
  /** `scheduled`, `emergency` (always allowed) or `manual`. */
  readonly rotationType: StartableRotationType;
  /**
   * Starts a scheduled or manual rotation even when the secret is not due.
   * @defaultValue false
   */
  readonly force?: boolean;
  /** Who starts it. */
  readonly actor: string;
  /** The request or incident it belongs to, such as `INCIDENT_12345`. */
  readonly requestId?: string;
  readonly role?: M28Role;
}

/** Input of `completeRotation()`. */
export interface CompleteRotationInput {
  /** The new version's label, such as `v2.1`. */
  readonly version: string;
  /** The new key's fingerprint, from {@link fingerprint}. Never the key. */
  readonly fingerprint: string;
  /** The services that took the new key. */
  readonly affectedServices: readonly string[];
  /** Seconds of downtime during the switch. */
  readonly downtimeSeconds: number;
  /** @defaultValue `'system'` */
  readonly actor?: string;
  readonly role?: M28Role;
}

/** Input of `failRotation()` and `cancelRotation()`. */
export interface EndRotationInput {
  readonly reason: string;
  readonly actor: string;
  readonly role?: M28Role;
}

/** Input of `rollback()`. */
export interface RollbackInput {
  readonly scope: string;
  readonly keyName: string;
  readonly reason: string;
  readonly actor: string;
  readonly requestId?: string;
  readonly role?: M28Role;
}

/** One row of a secret's rotation history. */
export interface RotationEntry {
  id: string;
  rotation_type: RotationType;
  status: RotationStatus;
  initiated_by: string;
  initiated_at: string | Date;
  request_id: string | null;
  completed_at: string | Date | null;
  completed_by: string | null;
  previous_version: string | null;
  previous_fingerprint: string | null;
  new_version: string | null;
  new_fingerprint: string | null;
  affected_services: string[];
  downtime_seconds: number | null;
  failure_reason: string | null;
}

interface RotationRef {
  readonly rotationId: string;
  readonly scope: string;
  readonly keyName: string;
}

/** Events of the secrets lifecycle. None ever carries a secret value. */
export interface SecretsEvents {
  'secret:registered': (event: { id: string; scope: string; keyName: string }) => void;
  'rotation:started': (
    event: RotationRef & { rotationType: StartableRotationType; actor: string },
  ) => void;
  'rotation:completed': (event: RotationRef & { version: string; fingerprint: string }) => void;
  'rotation:failed': (event: RotationRef & { reason: string; actor: string }) => void;
  'rotation:cancelled': (event: RotationRef & { reason: string; actor: string }) => void;
  'rotation:rolled_back': (event: RotationRef & { actor: string }) => void;
}
