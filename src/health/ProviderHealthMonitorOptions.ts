import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { deriveStatus, StatusThresholds } from '../domain/status.js';
import type { M28Store } from '../store/M28Store.js';

/** Options of {@link ProviderHealthMonitor}. */
export interface ProviderHealthMonitorOptions {
  /** The breakers that checks and live calls go through. */
  readonly registry: CircuitBreakerRegistry;
  /** Where toggles and resets are recorded. Toggles need one; checks do not. */
  readonly store?: M28Store;
  /**
   * Milliseconds between a provider's health checks, from 1 to 2 147 483 647.
   * @defaultValue 300000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a health check may take before it fails with `timeout`.
   * @defaultValue 10000
   */
  readonly checkTimeoutMs?: number;
  /**
   * Health checks that may run at once, from 1 to 1000.
   * @defaultValue 4
   */
  readonly maxConcurrentChecks?: number;
  /**
   * Milliseconds of calls and checks the success rate and average response time are over.
   * The window moves in tenths of its length. The spec's alerts count failures in 5 minutes.
   * @defaultValue 300000
   */
  readonly successRateWindowMs?: number;
  /** Thresholds of the status rules; see {@link deriveStatus}. */
  readonly thresholds?: Partial<StatusThresholds>;
  /**
   * With a store, each scheduled check first claims a lease on the provider's health row,
   * so that one instance checks a provider per interval however many share the database.
   * @defaultValue true
   */
  readonly leaseChecks?: boolean;
}
