import type { BreakerOptions } from './breakers/options.js';
import type { StatusThresholds } from './domain/status.js';
import type { M28Role } from './domain/vocabularies.js';
import type { HealthCheck } from './health/types.js';
import type { AlertRulesOptions } from './metrics/alertRules.js';
import type { RotationSchedulerOptions } from './rotation/RotationScheduler.js';
import type { M28Store } from './store/M28Store.js';
import type { StoreSinkOptions } from './store/StoreSink.js';

/** One provider and service, as `createOps()` takes it: breaker options, plus its check. */
export interface ProviderOptions extends BreakerOptions {
  /** The health check; without one, the provider's status comes from live calls only. */
  readonly check?: HealthCheck;
  /** Milliseconds between this provider's checks; the monitor's interval by default. */
  readonly intervalMs?: number;
}

/** Options of {@link createOps}. */
export interface OpsOptions {
  /** Where state, toggles and the audit trail live. Without one, state is in memory only. */
  readonly store?: M28Store;
  /** Providers keyed `'provider/service'`, such as `'stripe/payment'`. */
  readonly providers?: Readonly<Record<string, ProviderOptions>>;
  /** Breaker options every provider starts from. */
  readonly defaults?: BreakerOptions;
  /**
   * Milliseconds between health checks.
   * @defaultValue 300000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a health check may take.
   * @defaultValue 10000
   */
  readonly checkTimeoutMs?: number;
  /**
   * Health checks that may run at once.
   * @defaultValue 4
   */
  readonly maxConcurrentChecks?: number;
  /**
   * Milliseconds of calls and checks the success rate and average response time are over.
   * @defaultValue 300000
   */
  readonly successRateWindowMs?: number;
  /** Thresholds of the status rules. */
  readonly thresholds?: Partial<StatusThresholds>;
  /**
   * Milliseconds between snapshot flushes to the store.
   * @defaultValue 5000
   */
  readonly flushIntervalMs?: number;
  /**
   * Most operational events buffered while the database is slow or down.
   * @defaultValue 10000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Milliseconds between polls of the toggles: 5000 where the store can LISTEN, 1000 where
   * it cannot.
   */
  readonly pollIntervalMs?: number;
  /**
   * Milliseconds a background flush or toggle poll may take before it counts as failed and
   * is tried again. See {@link StoreSinkOptions.storeTimeoutMs}.
   * @defaultValue 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * The role the secrets lifecycle runs as unless a call names one.
   * @defaultValue `'m28_system'`
   */
  readonly secretsRole?: M28Role;
  /** The rotation scheduler: scan interval, `autoStart`, rotators by scope, reminders. */
  readonly scheduler?: Omit<RotationSchedulerOptions, 'store' | 'secrets' | 'hooks'>;
  /**
   * Per-rule overrides of the alert thresholds; the spec's table by default. The health check
   * failures window defaults to 5 minutes or, when checks are rarer, `critical` times the
   * longest check interval: 25 minutes at the default 300 s interval.
   */
  readonly alerts?: AlertRulesOptions;
  /**
   * Milliseconds between evaluations of the alert rules on the timer.
   * @defaultValue 10000
   */
  readonly alertIntervalMs?: number;
  /**
   * Milliseconds between writes of `operational_metrics` rows, with a store.
   * @defaultValue 60000
   */
  readonly metricsIntervalMs?: number;
  /**
   * Applies the M28 migrations in `start()`.
   * @defaultValue true
   */
  readonly migrate?: boolean;
  /**
   * A breaker that opens on this instance opens on every instance sharing the store, until
   * the same next attempt. The trade-off: one instance with a bad path to a provider trips
   * it for all of them.
   * @defaultValue false
   */
  readonly sharedTrip?: boolean;
  /**
   * With a store, scheduled health checks claim a lease first, so that one instance checks
   * a provider per interval.
   * @defaultValue true
   */
  readonly leaseChecks?: boolean;
}
