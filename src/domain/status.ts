import type { BreakerState, HealthStatus } from './vocabularies.js';

/** Thresholds of the health status rules. Every one is an option of the monitor. */
export interface StatusThresholds {
  /**
   * A success rate below this is `degraded`.
   * @defaultValue 0.95
   */
  readonly degradedBelowSuccessRate: number;
  /**
   * A success rate below this is `unhealthy`.
   * @defaultValue 0.5
   */
  readonly unhealthyBelowSuccessRate: number;
  /**
   * This many failed health checks in a row is `unhealthy`.
   * @defaultValue 3
   */
  readonly unhealthyAfterFailedChecks: number;
  /**
   * An average response time above this many milliseconds is `degraded`.
   * @defaultValue 2000
   */
  readonly degradedAboveResponseMs: number;
  /**
   * Calls needed before the success rate rules apply, when the inputs say how many calls the
   * rate is over: one failed check must not read as a 0 % success rate.
   * @defaultValue 10
   */
  readonly minCallsForSuccessRate?: number;
}

/** The spec's alert levels double as the status defaults: 2 s is slow. */
export const DEFAULT_STATUS_THRESHOLDS: StatusThresholds = {
  degradedBelowSuccessRate: 0.95,
  unhealthyBelowSuccessRate: 0.5,
  unhealthyAfterFailedChecks: 3,
  degradedAboveResponseMs: 2000,
  minCallsForSuccessRate: 10,
};

/** What a provider's status is derived from. */
export interface StatusInputs {
  /** Whether an operator lets calls through; when false, the status is `disabled`. */
  readonly enabled: boolean;
  /** Whether the provider is in maintenance; when true, the status is `maintenance`. */
  readonly maintenanceMode: boolean;
  /** The breaker's state: `open` is `unhealthy`, `half_open` is `degraded`. */
  readonly breakerState: BreakerState;
  /** Success rate of recent calls and checks, or null when there were none. */
  readonly successRate: number | null;
  /**
   * How many calls the success rate is over. Below `minCallsForSuccessRate` the rate rules do
   * not apply; left out, they always do.
   */
  readonly calls?: number;
  /** Average response time of recent successful calls, or null. */
  readonly responseTimeMs: number | null;
  /** Failed health checks in a row. */
  readonly failedChecksInARow: number;
  /** Whether the last health check passed, or null before the first. */
  readonly lastCheckPassed: boolean | null;
}

/**
 * Derives a provider's status. The first rule that matches wins:
 *
 * 1. `maintenance` when in maintenance, `disabled` when an operator disabled it;
 * 2. `unhealthy` when the breaker is open, the last `unhealthyAfterFailedChecks` checks
 *    failed, or the success rate is below `unhealthyBelowSuccessRate`;
 * 3. `degraded` when the breaker is half-open, the last check failed, the success rate is
 *    below `degradedBelowSuccessRate`, or responses average over `degradedAboveResponseMs`;
 * 4. `healthy` otherwise.
 *
 * The success rate rules apply when `inputs.calls` is left out or is at least
 * `minCallsForSuccessRate`.
 */
export function deriveStatus(
  inputs: StatusInputs,
  thresholds: StatusThresholds = DEFAULT_STATUS_THRESHOLDS,
): HealthStatus {
  if (inputs.maintenanceMode) {
    return 'maintenance';
  }
  if (!inputs.enabled) {
    return 'disabled';
  }

  const minCalls =
    thresholds.minCallsForSuccessRate ?? DEFAULT_STATUS_THRESHOLDS.minCallsForSuccessRate ?? 0;
  const enoughCalls = inputs.calls === undefined || inputs.calls >= minCalls;
  const rate = enoughCalls ? inputs.successRate : null;
  if (
    inputs.breakerState === 'open' ||
    inputs.failedChecksInARow >= thresholds.unhealthyAfterFailedChecks ||
    (rate !== null && rate < thresholds.unhealthyBelowSuccessRate)
  ) {
    return 'unhealthy';
  }

  if (
    inputs.breakerState === 'half_open' ||
    inputs.lastCheckPassed === false ||
    (rate !== null && rate < thresholds.degradedBelowSuccessRate) ||
    (inputs.responseTimeMs !== null && inputs.responseTimeMs > thresholds.degradedAboveResponseMs)
  ) {
    return 'degraded';
  }

  return 'healthy';
}
