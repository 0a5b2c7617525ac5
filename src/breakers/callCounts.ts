import type { BreakerState } from '../domain/vocabularies.js';
import type { OpossumCircuit } from './opossumCircuit.js';
import type { ResolvedBreakerOptions } from './options.js';
import type { BreakerCounters } from './state.js';

/**
 * Calls since the breaker last closed. Until a rolling window has passed, opossum's window
 * still holds the failures that opened the breaker, so percentage mode counts these instead.
 * @internal
 */
export interface SinceClose {
  /** When the breaker closed, in epoch milliseconds. */
  readonly at: number;
  /** Calls let through since then. */
  fires: number;
  /** Of those, the calls that failed and counted against the provider. */
  failures: number;
}

/**
 * Counters of a breaker that has made no call yet.
 * @internal
 */
export function newCounters(): BreakerCounters {
  return { fires: 0, successes: 0, failures: 0, timeouts: 0, rejects: 0, latencyTotalMs: 0 };
}

/**
 * A fresh count of calls since close, starting now.
 * @internal
 */
export function sinceCloseNow(): SinceClose {
  return { at: Date.now(), fires: 0, failures: 0 };
}

/**
 * Whether a failure just counted opens the breaker. A failed trial always does. A closed
 * breaker opens after `failureThreshold` failures in a row in `count` mode, and when the error
 * rate reaches `errorThresholdPercentage` over at least `volumeThreshold` calls in `percentage`
 * mode. An open breaker stays as it is.
 * @internal
 */
export function opensOnFailure(
  breaker: { readonly state: BreakerState; readonly options: ResolvedBreakerOptions },
  consecutiveFailures: number,
  sinceClose: SinceClose,
  opossum: Pick<OpossumCircuit, 'stats'>,
): boolean {
  const { state, options } = breaker;
  if (state !== 'closed') {
    return state === 'half_open';
  }
  if (options.mode === 'count') {
    return consecutiveFailures >= options.failureThreshold;
  }

  const windowIsFresh = Date.now() - sinceClose.at < options.rollingWindowMs;
  // opossum sums its buckets on every read of `stats`: read them only once the window is stale.
  const { fires, failures } = windowIsFresh ? sinceClose : opossum.stats;
  if (fires < options.volumeThreshold || fires === 0) {
    return false;
  }

  return (failures / fires) * 100 >= options.errorThresholdPercentage;
}
