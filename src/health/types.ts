import type { HealthStatus } from '../domain/vocabularies.js';

/**
 * A health check for one provider and service. It passes when it resolves, and fails when
 * it throws, rejects, or resolves to `false`. `signal` aborts when the check's time is up.
 */
export type HealthCheck = (signal: AbortSignal) => unknown;

/** The outcome of one health check. */
export interface HealthCheckResult {
  readonly provider: string;
  readonly service: string;
  /** When the check ran. */
  readonly at: Date;
  /** Whether the check was made and passed. */
  readonly passed: boolean;
  /** Whether the provider can take calls now, as the spec's check function reports it. */
  readonly available: boolean;
  /** How long a passing check took, in milliseconds. */
  readonly responseTimeMs: number | null;
  /**
   * Why the check failed: `circuit_breaker_open`, `timeout`, `disabled`, `maintenance`, or
   * the error's `code` or class name. Never the error's message, which may hold anything.
   */
  readonly reason?: string;
}

/** Payload of `provider:status`. */
export interface ProviderStatusEvent {
  readonly provider: string;
  readonly service: string;
  readonly from: HealthStatus;
  readonly to: HealthStatus;
}

/** Payload of `provider:toggle`. */
export interface ProviderToggleEvent {
  readonly provider: string;
  readonly service: string;
  readonly enabled: boolean;
  readonly maintenanceMode: boolean;
  readonly maintenanceUntil: Date | null;
  /** `local` when this instance made the change, `remote` when it learned of it. */
  readonly origin: 'local' | 'remote';
  /** Who made the change, when this instance made it. */
  readonly actor?: string;
  /** Why, when this instance made it. */
  readonly reason?: string;
}

/** Payload of `breaker:reset`. */
export interface BreakerResetEvent {
  readonly provider: string;
  readonly service: string;
  readonly origin: 'local' | 'remote';
  readonly actor?: string;
}

/** One provider in the spec's "Provider Health Response". */
export interface ProviderHealth {
  provider: string;
  service_type: string;
  status: HealthStatus;
  circuit_breaker_state: 'closed' | 'open' | 'half_open';
  enabled: boolean;
  maintenance_mode: boolean;
  response_time_ms: number | null;
  success_rate: number | null;
  failure_count: number;
  last_health_check: string | null;
  available: boolean;
  /** True when no health check has run for two intervals. */
  stale: boolean;
  /** When maintenance ends by itself, if it has an expiry. */
  maintenance_until: string | null;
  /** When an open breaker lets the next trial call through. */
  circuit_breaker_next_attempt: string | null;
}

/** The spec's "Provider Health Response". */
export interface ProviderHealthResponse {
  providers: ProviderHealth[];
  summary: {
    total_providers: number;
    healthy: number;
    degraded: number;
    unhealthy: number;
    maintenance: number;
    disabled: number;
  };
}
