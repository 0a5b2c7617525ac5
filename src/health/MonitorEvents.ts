import type {
  BreakerResetEvent,
  HealthCheckResult,
  ProviderStatusEvent,
  ProviderToggleEvent,
} from './types.js';

/** Events of {@link ProviderHealthMonitor}. */
export interface MonitorEvents {
  /** A health check ran, or was refused by the breaker. */
  'health:checked': (result: HealthCheckResult) => void;
  /** A provider's derived status changed. */
  'provider:status': (event: ProviderStatusEvent) => void;
  /** A provider was enabled, disabled, or put in or out of maintenance. */
  'provider:toggle': (event: ProviderToggleEvent) => void;
  /** An operator reset a breaker. */
  'breaker:reset': (event: BreakerResetEvent) => void;
  /** A background task failed; the monitor keeps running. */
  error: (error: Error) => void;
}
