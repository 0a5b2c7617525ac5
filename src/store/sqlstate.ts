import {
  AuditAppendOnlyError,
  ConnectionLostError,
  M28DatabaseError,
  NoPreviousVersionError,
  NotFoundError,
  PermissionDeniedError,
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  SecretRetiredError,
} from '../errors/database.js';
import { isM28Error, type M28Error } from '../errors/M28Error.js';
import { ValidationError } from '../errors/ValidationError.js';
import { isConnectionLost } from './postgresTransaction.js';

/** SQLSTATEs the M28 SQL functions raise, and the PostgreSQL ones the store reacts to. */
export const SQLSTATE = {
  /** A secret already has an open rotation; becomes {@link RotationInProgressError}. */
  ROTATION_IN_PROGRESS: 'M2801',
  /** The rotation is not `in_progress`; becomes {@link RotationNotOpenError}. */
  ROTATION_NOT_OPEN: 'M2802',
  /** A non-forced start on a secret that is not due; becomes {@link RotationNotDueError}. */
  ROTATION_NOT_DUE: 'M2803',
  /** A rollback without a previous version; becomes {@link NoPreviousVersionError}. */
  NO_PREVIOUS_VERSION: 'M2804',
  /** No such row, or not visible to the caller's role; becomes {@link NotFoundError}. */
  NOT_FOUND: 'M2805',
  /** The secret is retired; becomes {@link SecretRetiredError}. */
  SECRET_RETIRED: 'M2806',
  /** A bad argument; the column names the field; becomes {@link ValidationError}. */
  INVALID_INPUT: 'M2810',
  /** An `UPDATE` or `DELETE` on `audit_log`; becomes {@link AuditAppendOnlyError}. */
  AUDIT_APPEND_ONLY: 'M2820',
  /** PostgreSQL's `insufficient_privilege`; becomes {@link PermissionDeniedError}. */
  INSUFFICIENT_PRIVILEGE: '42501',
  /** PostgreSQL's `unique_violation`. */
  UNIQUE_VIOLATION: '23505',
  /** PostgreSQL's `check_violation`. */
  CHECK_VIOLATION: '23514',
  /** PostgreSQL's `not_null_violation`. */
  NOT_NULL_VIOLATION: '23502',
  /** PostgreSQL's `invalid_text_representation`, such as a malformed UUID. */
  INVALID_TEXT_REPRESENTATION: '22P02',
} as const;

type DatabaseErrorClass = new (
  code: string,
  message: string,
  context: { sqlState: string; column?: string },
  cause?: unknown,
) => M28DatabaseError;

const TRANSLATIONS: Readonly<Record<string, readonly [DatabaseErrorClass, string]>> = {
  [SQLSTATE.ROTATION_IN_PROGRESS]: [RotationInProgressError, 'M28_ROTATION_IN_PROGRESS'],
  [SQLSTATE.ROTATION_NOT_OPEN]: [RotationNotOpenError, 'M28_ROTATION_NOT_OPEN'],
  [SQLSTATE.ROTATION_NOT_DUE]: [RotationNotDueError, 'M28_ROTATION_NOT_DUE'],
  [SQLSTATE.NO_PREVIOUS_VERSION]: [NoPreviousVersionError, 'M28_NO_PREVIOUS_VERSION'],
  [SQLSTATE.NOT_FOUND]: [NotFoundError, 'M28_NOT_FOUND'],
  [SQLSTATE.SECRET_RETIRED]: [SecretRetiredError, 'M28_SECRET_RETIRED'],
  [SQLSTATE.INSUFFICIENT_PRIVILEGE]: [PermissionDeniedError, 'M28_PERMISSION_DENIED'],
  [SQLSTATE.AUDIT_APPEND_ONLY]: [AuditAppendOnlyError, 'M28_AUDIT_APPEND_ONLY'],
};

/** The fields of a PostgreSQL error that every driver exposes, under its own names. */
interface PgErrorLike {
  code: string;
  message: string;
  column?: string;
  column_name?: string;
}

function isPgErrorLike(value: unknown): value is PgErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((value as { code: string }).code)
  );
}

/**
 * Finds the driver's PostgreSQL error inside whatever wrapped it. Drizzle wraps driver errors
 * in a query error whose message lists the parameters, which may hold a secret, so that
 * wrapper's message is never used.
 */
export function findPgError(error: unknown): PgErrorLike | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    if (isPgErrorLike(current)) {
      return current;
    }
    current = (current as { cause?: unknown }).cause;
  }

  return undefined;
}

/**
 * Translates a database error into a typed {@link M28Error} by SQLSTATE, never by message
 * text. The result holds the database's own message, never the query's parameters.
 */
export function translateDatabaseError(error: unknown): M28Error {
  if (isM28Error(error)) {
    return error;
  }

  const pgError = findPgError(error);
  if (isConnectionLost(error)) {
    return new ConnectionLostError('M28_CONNECTION_LOST', 'the database connection was lost', {
      sqlState: pgError?.code ?? '',
    });
  }
  if (!pgError) {
    const message = error instanceof Error ? error.name : 'unknown error';

    return new M28DatabaseError('M28_DATABASE', `database call failed: ${message}`, {
      sqlState: '',
    });
  }

  const column = pgError.column ?? pgError.column_name;
  const context = { sqlState: pgError.code, ...(column ? { column } : {}) };
  // The driver's error can carry the query's parameters; keep only the server's words.
  const cause = new Error(pgError.message);
  if (pgError.code === SQLSTATE.INVALID_INPUT) {
    const rule = pgError.message.replace(/^invalid [^:]+: /, '');

    return new ValidationError([{ field: column ?? 'input', rule, received: '[redacted]' }], {
      cause,
    });
  }

  const translation = TRANSLATIONS[pgError.code];
  if (translation) {
    const [ErrorClass, code] = translation;

    return new ErrorClass(code, pgError.message, context, cause);
  }

  return new M28DatabaseError('M28_DATABASE', pgError.message, context, cause);
}
