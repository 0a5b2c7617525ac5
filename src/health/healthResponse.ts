import type { BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import type { HealthStatus } from '../domain/vocabularies.js';
import type { ProviderRecord } from './ProviderRecord.js';
import type { ProviderHealth, ProviderHealthResponse } from './types.js';

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * One provider as the spec's "Provider Health Response" shows it.
 * @internal
 */
export function toProviderHealth(
  breaker: BreakerSnapshot,
  record: ProviderRecord,
  now: number,
): ProviderHealth {
  const circuit = breaker.circuit;
  const lastAt = record.lastCheck?.at.getTime() ?? record.registeredAt;

  return {
    provider: record.provider,
    service_type: record.service,
    status: record.status,
    circuit_breaker_state: circuit.state,
    enabled: record.enabled,
    maintenance_mode: record.maintenanceMode,
    response_time_ms: record.responseTimeMs,
    success_rate: record.successRate === null ? null : round4(record.successRate),
    failure_count: breaker.consecutiveFailures,
    last_health_check: record.lastCheck?.at.toISOString() ?? null,
    available: record.enabled && !record.maintenanceMode && circuit.state !== 'open',
    stale: now - lastAt > 2 * record.intervalMs,
    maintenance_until: record.maintenanceUntil?.toISOString() ?? null,
    circuit_breaker_next_attempt:
      circuit.state === 'open' ? circuit.nextAttemptAt.toISOString() : null,
  };
}

/**
 * The response, with its summary counted by status.
 * @internal
 */
export function toHealthResponse(providers: ProviderHealth[]): ProviderHealthResponse {
  const count = (status: HealthStatus) => providers.filter((p) => p.status === status).length;

  return {
    providers,
    summary: {
      total_providers: providers.length,
      healthy: count('healthy'),
      degraded: count('degraded'),
      unhealthy: count('unhealthy'),
      maintenance: count('maintenance'),
      disabled: count('disabled'),
    },
  };
}
