import type { BreakerCircuit, BreakerCounters, BreakerSnapshot, ProviderAccess } from './state.js';

/**
 * Builds a breaker's snapshot, with a copy of its counters so that later calls leave it as
 * it is.
 * @internal
 */
export function snapshotOf(
  breaker: {
    readonly provider: string;
    readonly service: string;
    readonly circuit: BreakerCircuit;
    readonly access: ProviderAccess;
  },
  consecutiveFailures: number,
  counters: BreakerCounters,
): BreakerSnapshot {
  return {
    provider: breaker.provider,
    service: breaker.service,
    circuit: breaker.circuit,
    access: breaker.access,
    consecutiveFailures,
    counters: { ...counters },
  };
}
