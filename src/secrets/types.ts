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
  /** The secret's scope, such as `stripe`. */
  readonly scope: string;
  /** The secret's key name within the scope, such as `secret_key`. */
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
  /** The role to run as; the manager's role by default. */
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
  /** The role to run as; the manager's role by default. */
  readonly role?: M28Role;
}

/** Input of `failRotation()` and `cancelRotation()`. */
export interface EndRotationInput {
  /** Why the rotation ended, recorded as its `failure_reason` and in the audit log. */
  readonly reason: string;
  /** Who ended it, recorded as its `completed_by`. */
  readonly actor: string;
  /** The role to run as; the manager's role by default. */
  readonly role?: M28Role;
}

/** Input of `rollback()`. */
export interface RollbackInput {
  /** The secret's scope, such as `stripe`. */
  readonly scope: string;
  /** The secret's key name within the scope, such as `secret_key`. */
  readonly keyName: string;
  /** Why, recorded as the rollback's `failure_reason` and in the audit log. */
  readonly reason: string;
  /** Who rolls back. */
  readonly actor: string;
  /** The request or incident it belongs to. */
  readonly requestId?: string;
  /** The role to run as; the manager's role by default. */
  readonly role?: M28Role;
}

/** One row of a secret's rotation history. */
export interface RotationEntry {
  /** The rotation id. */
  id: string;
  /** `scheduled`, `emergency`, `manual` or `rollback`. */
  rotation_type: RotationType;
  /** `in_progress` until it is completed, failed or cancelled. */
  status: RotationStatus;
  /** Who started it. */
  initiated_by: string;
  /** When it started. */
  initiated_at: string | Date;
  /** The request or incident it belongs to, if any. */
  request_id: string | null;
  /** When it ended, or null while in progress. */
  completed_at: string | Date | null;
  /** Who completed, failed or cancelled it, or null while in progress. */
  completed_by: string | null;
  /** The version current when it started. */
  previous_version: string | null;
  /** That version's fingerprint. */
  previous_fingerprint: string | null;
  /** The version it made current, once completed. */
  new_version: string | null;
  /** That version's fingerprint. */
  new_fingerprint: string | null;
  /** The services that took the new version. */
  affected_services: string[];
  /** Seconds of downtime during the switch, once completed. */
  downtime_seconds: number | null;
  /** Why it failed or was cancelled; for a rollback, its reason. */
  failure_reason: string | null;
}

/** Names a rotation in the events of {@link SecretsEvents}. */
export interface RotationRef {
  /** The rotation id. */
  readonly rotationId: string;
  /** The secret's scope. */
  readonly scope: string;
  /** The secret's key name within the scope. */
  readonly keyName: string;
}

/** Events of the secrets lifecycle. None ever carries a secret value. */
export interface SecretsEvents {
  /** A secret was registered; registering one that exists emits nothing. */
  'secret:registered': (event: { id: string; scope: string; keyName: string }) => void;
  /** A rotation started, by `startRotation()` or the scheduler. */
  'rotation:started': (
    event: RotationRef & { rotationType: StartableRotationType; actor: string },
  ) => void;
  /** A rotation completed: the new version and fingerprint are current. */
  'rotation:completed': (event: RotationRef & { version: string; fingerprint: string }) => void;
  /** A rotation failed; the current version stays. */
  'rotation:failed': (event: RotationRef & { reason: string; actor: string }) => void;
  /** A rotation was cancelled; the current version stays. */
  'rotation:cancelled': (event: RotationRef & { reason: string; actor: string }) => void;
  /** The previous version was made current again. */
  'rotation:rolled_back': (event: RotationRef & { actor: string }) => void;
}
