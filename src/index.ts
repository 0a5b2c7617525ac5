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
  ConnectionLostError,
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  SchemaTooNewError,
  SecretRetiredError,
  isAuditAppendOnlyError,
  isConnectionLostError,
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
export {
  CONNECTION_LOSS_GRACE_MS,
  isConnectionLost,
  postgresTransaction,
} from './store/postgresTransaction.js';
export type { TransactionRunner } from './store/postgresTransaction.js';
export { SQLSTATE, translateDatabaseError } from './store/sqlstate.js';
export * as schema from './store/schema.js';

export { CircuitBreakerRegistry } from './breakers/CircuitBreakerRegistry.js';
export type {
  BreakerCloseEvent,
  BreakerKey,
  BreakerOpenEvent,
  CircuitBreakerRegistryOptions,
  RegistryEvents,
} from './breakers/CircuitBreakerRegistry.js';
export { ProviderBreaker } from './breakers/ProviderBreaker.js';
export type {
  BreakerCircuit,
  BreakerCounters,
  BreakerSnapshot,
  BreakerTransition,
  ProviderAccess,
} from './breakers/ProviderBreaker.js';
export { breakerOptionsSchema, resolveBreakerOptions } from './breakers/options.js';
export type { BreakerOptions, ResolvedBreakerOptions, WrapOptions } from './breakers/options.js';
export {
  BreakerOpenError,
  ProviderCallError,
  ProviderDisabledError,
  ProviderInMaintenanceError,
  ProviderTimeoutError,
  isBreakerOpenError,
  isProviderCallError,
  isProviderDisabledError,
  isProviderInMaintenanceError,
  isProviderTimeoutError,
} from './errors/provider.js';
export type { ProviderCallContext } from './errors/provider.js';
export { DEFAULT_STATUS_THRESHOLDS, deriveStatus } from './domain/status.js';
export type { StatusInputs, StatusThresholds } from './domain/status.js';
export { ProviderHealthMonitor } from './health/ProviderHealthMonitor.js';
export type {
  MonitorEvents,
  ProviderHealthMonitorOptions,
} from './health/ProviderHealthMonitor.js';
export type { ResetBreakerInput, ToggleInput } from './health/toggles.js';
export type {
  BreakerResetEvent,
  HealthCheck,
  HealthCheckResult,
  ProviderHealth,
  ProviderHealthResponse,
  ProviderStatusEvent,
  ProviderToggleEvent,
} from './health/types.js';
export { StoreSink } from './store/StoreSink.js';
export type { StoreSinkEvents, StoreSinkOptions, StoreSinkStats } from './store/StoreSink.js';
export { CHANGES_CHANNEL } from './store/ToggleSync.js';
export { M28Ops, createOps } from './ops.js';
export type { OpsEvents, OpsOptions, ProviderOptions } from './ops.js';
export { fingerprint, isFingerprint } from './secrets/fingerprint.js';
export type { Fingerprint, FingerprintOptions } from './secrets/fingerprint.js';
export { nextRotationAfter, reviewRotation } from './domain/schedule.js';
export type { RotationReview } from './domain/schedule.js';
export { SecretsManager } from './secrets/SecretsManager.js';
export type { SecretsManagerOptions } from './secrets/SecretsManager.js';
export type { SecretStatusEntry, SecretsStatusResponse } from './secrets/status.js';
export type {
  CompleteRotationInput,
  EndRotationInput,
  RegisterSecretInput,
  RollbackInput,
  RotationEntry,
  SecretsEvents,
  StartRotationInput,
} from './secrets/types.js';
export { RotationScheduler } from './rotation/RotationScheduler.js';
export type {
  DueSecret,
  RotationSchedulerOptions,
  SchedulerEvents,
} from './rotation/RotationScheduler.js';
export { runRotator } from './rotation/runRotator.js';
export type {
  NewSecret,
  RotationContext,
  Rotator,
  RotatorHooks,
  RotatorOutcome,
} from './rotation/runRotator.js';
export { createAdminHandler } from './http/createAdminHandler.js';
export type {
  AdminHandlerOptions,
  AdminPrincipal,
  AdminRole,
  AdminTarget,
} from './http/createAdminHandler.js';
export { toNodeHandler } from './http/toNodeHandler.js';
export type { ErrorBody } from './http/errors.js';
export {
  METRIC_FAMILIES,
  collectMetricFamilies,
  escapeLabel,
  formatMetricFamilies,
  renderMetrics,
} from './metrics/prometheus.js';
export type {
  MetricFamily,
  MetricFamilySpec,
  MetricSample,
  MetricsSource,
} from './metrics/prometheus.js';
export { MetricsCollector } from './metrics/MetricsCollector.js';
export type { MetricsCollectorOptions } from './metrics/MetricsCollector.js';
export { registerPromClientMetrics } from './metrics/promClient.js';
export type {
  PromClientOptions,
  PromClientRegistration,
  PromClientRegistry,
} from './metrics/promClient.js';
export { OperationalMetricsWriter } from './metrics/OperationalMetricsWriter.js';
export type {
  OperationalMetricsEvents,
  OperationalMetricsWriterOptions,
} from './metrics/OperationalMetricsWriter.js';
export { ALERT_RULES, DEFAULT_ALERT_RULES } from './metrics/alertRules.js';
export type {
  AlertLevel,
  AlertRule,
  AlertRuleOptions,
  AlertRulesOptions,
  ResolvedAlertRules,
  RuleThresholds,
} from './metrics/alertRules.js';
export { AlertEvaluator } from './metrics/AlertEvaluator.js';
export type { AlertEvaluatorOptions } from './metrics/AlertEvaluator.js';
export type {
  Alert,
  AlertEvents,
  AlertRaisedEvent,
  AlertResolvedEvent,
  ProviderAlert,
  RotationAlert,
} from './metrics/alerts.js';
export type { Listenable } from './metrics/options.js';
export type { StoredBreakerCircuit, TransitionListener } from './breakers/ProviderBreaker.js';
export type { ToggleState } from './health/ProviderHealthMonitor.js';
export type { RotationRef } from './secrets/types.js';
