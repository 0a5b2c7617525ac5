import { guardFor, M28Error } from './M28Error.js';

/** Context carried by errors raised by the M28 SQL functions. */
export interface DatabaseErrorContext {
  /** The PostgreSQL SQLSTATE. */
  readonly sqlState: string;
  /** The column (argument) the database named, when it named one. */
  readonly column?: string;
}

/** Base of errors translated from a PostgreSQL SQLSTATE. */
export class M28DatabaseError extends M28Error {
  /** The PostgreSQL SQLSTATE. */
  readonly sqlState: string;
  /** The column (argument) the database named, when it named one. */
  readonly column: string | undefined;

  constructor(code: string, message: string, context: DatabaseErrorContext, cause?: unknown) {
    super(code, message, { cause });
    this.sqlState = context.sqlState;
    this.column = context.column;
  }
}

/** The secret already has an open rotation (SQLSTATE M2801). */
export class RotationInProgressError extends M28DatabaseError {}
/** The rotation is not `in_progress`, so it cannot be completed, failed or cancelled (M2802). */
export class RotationNotOpenError extends M28DatabaseError {}
/** A non-forced, non-emergency start on a secret that is not due (M2803). */
export class RotationNotDueError extends M28DatabaseError {}
/** A rollback on a secret with no previous version (M2804). */
export class NoPreviousVersionError extends M28DatabaseError {}
/** No such row, or the caller's role may not see it (M2805). */
export class NotFoundError extends M28DatabaseError {}
/** The secret is retired (M2806). */
export class SecretRetiredError extends M28DatabaseError {}
/** The caller's role may not do this (SQLSTATE 42501). */
export class PermissionDeniedError extends M28DatabaseError {}
/** Someone tried to change or delete an audit row (M2820). */
export class AuditAppendOnlyError extends M28DatabaseError {}
/**
 * The connection under the call was lost: the server ended it (SQLSTATE 57P01 and kin) or the
 * network did. Nothing of the call's transaction was committed, unless the loss came during
 * `COMMIT` itself, whose outcome is then unknown. The pool replaces the connection; a retry
 * goes through.
 */
export class ConnectionLostError extends M28DatabaseError {}
/** The database holds an M28 schema newer than this version of m28-ops knows. */
export class SchemaTooNewError extends M28Error {
  /** The newest migration version recorded in the database. */
  readonly databaseVersion: number;
  /** The newest migration version this package ships. */
  readonly knownVersion: number;

  constructor(databaseVersion: number, knownVersion: number) {
    super(
      'M28_SCHEMA_TOO_NEW',
      `the database's m28 schema is at migration ${databaseVersion}, but this m28-ops ` +
        `knows migrations up to ${knownVersion}; upgrade m28-ops before connecting`,
    );
    this.databaseVersion = databaseVersion;
    this.knownVersion = knownVersion;
  }
}

/** True when `error` is a {@link RotationInProgressError}. */
export const isRotationInProgressError = guardFor<RotationInProgressError>(
  'M28_ROTATION_IN_PROGRESS',
);
/** True when `error` is a {@link RotationNotOpenError}. */
export const isRotationNotOpenError = guardFor<RotationNotOpenError>('M28_ROTATION_NOT_OPEN');
/** True when `error` is a {@link RotationNotDueError}. */
export const isRotationNotDueError = guardFor<RotationNotDueError>('M28_ROTATION_NOT_DUE');
/** True when `error` is a {@link NoPreviousVersionError}. */
export const isNoPreviousVersionError = guardFor<NoPreviousVersionError>('M28_NO_PREVIOUS_VERSION');
/** True when `error` is a {@link NotFoundError}. */
export const isNotFoundError = guardFor<NotFoundError>('M28_NOT_FOUND');
/** True when `error` is a {@link SecretRetiredError}. */
export const isSecretRetiredError = guardFor<SecretRetiredError>('M28_SECRET_RETIRED');
/** True when `error` is a {@link PermissionDeniedError}. */
export const isPermissionDeniedError = guardFor<PermissionDeniedError>('M28_PERMISSION_DENIED');
/** True when `error` is an {@link AuditAppendOnlyError}. */
export const isAuditAppendOnlyError = guardFor<AuditAppendOnlyError>('M28_AUDIT_APPEND_ONLY');
/** True when `error` is a {@link ConnectionLostError}. */
export const isConnectionLostError = guardFor<ConnectionLostError>('M28_CONNECTION_LOST');
/** True when `error` is a {@link SchemaTooNewError}. */
export const isSchemaTooNewError = guardFor<SchemaTooNewError>('M28_SCHEMA_TOO_NEW');
