import type { HealthStatus } from '../domain/vocabularies.js';

/**
 * A health check for one provider and service. It passes when it resolves, and fails when
 * it throws, rejects, resolves to `false`, or resolves to an object whose `ok` is `false`
 * (a fetch `Response` with an error status, say; the reason is then `unhealthy`). `signal`
 * aborts when the check's time is up.
 */
export type HealthCheck = (signal: AbortSignal) => unknown;

/** The outcome of one health check. */
export interface HealthCheckResult {
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
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
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** The status before. */
  readonly from: HealthStatus;
  /** The status now. */
  readonly to: HealthStatus;
}

/** Payload of `provider:toggle`. */
export interface ProviderToggleEvent {
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** Whether calls may reach the provider now. */
  readonly enabled: boolean;
  /** Whether the provider is in maintenance now. */
  readonly maintenanceMode: boolean;
  /** When maintenance ends by itself, or null without an expiry or outside maintenance. */
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
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** `local` when this instance reset the breaker, `remote` when it learned of it. */
  readonly origin: 'local' | 'remote';
  /** Who reset it, when this instance did. */
  readonly actor?: string;
}

/** One provider in the spec's "Provider Health Response". */
export interface ProviderHealth {
  /** Provider name. */
  provider: string;
  /** Service type. */
  service_type: string;
  /** The derived status. */
  status: HealthStatus;
  /** The breaker's state. */
  circuit_breaker_state: 'closed' | 'open' | 'half_open';
  /** Whether an operator lets calls through. */
  enabled: boolean;
  /** Whether the provider is in maintenance. */
  maintenance_mode: boolean;
  /** Average response time of recent successful calls, in milliseconds, or null. */
  response_time_ms: number | null;
  /** Success rate of recent calls and checks, to 4 decimals, or null when there were none. */
  success_rate: number | null;
  /** Consecutive failures counted toward opening the breaker. */
  failure_count: number;
  /** When the last health check ran, as ISO 8601, or null before the first. */
  last_health_check: string | null;
  /** Whether calls may go through now: enabled, not in maintenance, breaker not open. */
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
  /** Every provider asked for. */
  providers: ProviderHealth[];
  /** How many providers there are, and how many have each status. */
  summary: {
    /** Providers in `providers`. */
    total_providers: number;
    /** Providers whose status is `healthy`. */
    healthy: number;
    /** Providers whose status is `degraded`. */
    degraded: number;
    /** Providers whose status is `unhealthy`. */
    unhealthy: number;
    /** Providers whose status is `maintenance`. */
    maintenance: number;
    /** Providers whose status is `disabled`. */
    disabled: number;
  };
}
