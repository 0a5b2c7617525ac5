export {
  BREAKER_STATES,
  DATA_CLASSIFICATIONS,
  HEALTH_STATUSES,
  KEY_TYPES,
  M28_ROLES,
  OPERATIONAL_EVENT_TYPES,
  ROTATION_SCHEDULES,
  ROTATION_STATUSES,
  ROTATION_TYPES,
  SECRET_STATUSES,
  SEVERITIES,
  STARTABLE_ROTATION_TYPES,
} from './domain/vocabularies.js';
export type {
  BreakerState,
  DataClassification,
  HealthStatus,
  KeyType,
  M28Role,
  OperationalEventType,
  RotationSchedule,
  RotationStatus,
  RotationType,
  SecretStatus,
  Severity,
  StartableRotationType,
} from './domain/vocabularies.js';
export { KEY_TYPE_DEFAULTS, PROVIDER_DEFAULTS } from './domain/defaults.js';
export type { KeyTypeDefault } from './domain/defaults.js';

export { M28Error, isM28Error } from './errors/M28Error.js';
export { ValidationError, isValidationError } from './errors/ValidationError.js';
export type { FieldIssue } from './errors/ValidationError.js';
export {
  AuditAppendOnlyError,
  M28DatabaseError,
  NoPreviousVersionError,
  NotFoundError,
  PermissionDeniedError,
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  SchemaTooNewError,
  SecretRetiredError,
  isNoPreviousVersionError,
  isNotFoundError,
  isPermissionDeniedError,
  isRotationInProgressError,
  isRotationNotDueError,
  isRotationNotOpenError,
  isSchemaTooNewError,
  isSecretRetiredError,
} from './errors/database.js';
export type { DatabaseErrorContext } from './errors/database.js';
export {
  MissingPeerDependencyError,
  isMissingPeerDependencyError,
} from './errors/MissingPeerDependencyError.js';

export { M28Store } from './store/M28Store.js';
export type { M28Database, M28StoreOptions, StoreDriver } from './store/M28Store.js';
export { connectPglite, connectPostgres, connectStore, fromDrizzle } from './store/connect.js';
export type {
  ConnectPgliteOptions,
  ConnectPostgresOptions,
  ConnectStoreOptions,
} from './store/connect.js';
export { migrate, readMigrations } from './store/migrate.js';
export type { MigrateOptions, MigrateResult, Migration } from './store/migrate.js';
export { SQLSTATE, translateDatabaseError } from './store/sqlstate.js';
export * as schema from './store/schema.js';
