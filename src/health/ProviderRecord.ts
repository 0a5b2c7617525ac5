import type { ProviderAccess } from '../breakers/ProviderBreaker.js';
import type { HealthStatus } from '../domain/vocabularies.js';
import { CallWindow } from './CallWindow.js';
import type { HealthCheck, HealthCheckResult } from './types.js';

/**
 * What the monitor knows of one provider and service.
 * @internal
 */
export interface ProviderRecord {
  readonly provider: string;
  readonly service: string;
  check: HealthCheck | undefined;
  intervalMs: number;
  timer: ReturnType<typeof setInterval> | undefined;
  /** A scheduled check is running: the next tick does not queue another. */
  checking: boolean;
  lastCheck: HealthCheckResult | undefined;
  /** Whether the last check passed; unlike `lastCheck`, a breaker reset clears it. */
  lastCheckPassed: boolean | null;
  failedChecksInARow: number;
  status: HealthStatus;
  enabled: boolean;
  maintenanceMode: boolean;
  maintenanceUntil: Date | null;
  /** The recent calls and checks that the success rate and response time are over. */
  readonly window: CallWindow;
  successRate: number | null;
  responseTimeMs: number | null;
  registeredAt: number;
}

/** @internal */
export const keyOf = (provider: string, service: string) => `${provider}/${service}`;

/**
 * A provider the monitor has just learned of: enabled, healthy, never checked.
 * @internal
 */
export function createRecord(
  provider: string,
  service: string,
  intervalMs: number,
  windowMs: number,
): ProviderRecord {
  return {
    provider,
    service,
    check: undefined,
    intervalMs,
    timer: undefined,
    checking: false,
    lastCheck: undefined,
    lastCheckPassed: null,
    failedChecksInARow: 0,
    status: 'healthy',
    enabled: true,
    maintenanceMode: false,
    maintenanceUntil: null,
    window: new CallWindow(windowMs),
    successRate: null,
    responseTimeMs: null,
    registeredAt: Date.now(),
  };
}

/**
 * Whether calls may reach the provider, as its toggles say.
 * @internal
 */
export function accessOf(record: ProviderRecord): ProviderAccess {
  if (record.maintenanceMode) {
    return { kind: 'maintenance', until: record.maintenanceUntil ?? undefined };
  }

  return record.enabled ? { kind: 'enabled' } : { kind: 'disabled' };
}
