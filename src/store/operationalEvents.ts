import type {
  BreakerCloseEvent,
  BreakerKey,
  BreakerOpenEvent,
} from '../breakers/CircuitBreakerRegistry.js';
import type { OperationalEventType, Severity } from '../domain/vocabularies.js';
import type { HealthCheckResult, ProviderStatusEvent } from '../health/types.js';
import { subjectOf, type AlertRaisedEvent, type AlertResolvedEvent } from '../metrics/alerts.js';

/** An operational event row waiting to be written. @internal */
export interface PendingEvent {
  /** Makes a batch sent twice write the event once. */
  readonly event_key: string;
  readonly provider_name: string;
  /** `null` for an event about a secret rather than a provider's service. */
  readonly service_type: string | null;
  readonly event_type: OperationalEventType;
  readonly severity: Severity;
  readonly summary: string;
  readonly details: Record<string, unknown>;
  readonly created_at: string;
  /** Transitions are never dropped; other events may be, oldest first. */
  readonly transition: boolean;
}

/** A {@link PendingEvent} before it gets its key and time. @internal */
export type EventDraft = Omit<PendingEvent, 'event_key' | 'created_at' | 'details'> & {
  readonly details?: Record<string, unknown>;
};

// Checks the breaker refused were never made: an open breaker, a disabled provider or one in
// maintenance is no news each interval, and has its own event.
const REFUSED_CHECKS: ReadonlySet<string> = new Set([
  'circuit_breaker_open',
  'disabled',
  'maintenance',
]);

const STATUS_SEVERITY: Readonly<Record<string, Severity>> = {
  healthy: 'info',
  degraded: 'warning',
  unhealthy: 'error',
};

const nameOf = (key: BreakerKey) => `${key.provider}/${key.service}`;

/** The `breaker_open` event. @internal */
export function breakerOpenEvent(event: BreakerOpenEvent): EventDraft {
  return {
    provider_name: event.provider,
    service_type: event.service,
    event_type: 'breaker_open',
    severity: 'error',
    summary: `${nameOf(event)} circuit breaker opened`,
    details: {
      opened_at: event.openedAt.toISOString(),
      next_attempt_at: event.nextAttemptAt.toISOString(),
      failures: event.failures,
    },
    transition: true,
  };
}

/** The `breaker_half_open` event. @internal */
export function breakerHalfOpenEvent(event: BreakerKey): EventDraft {
  return {
    provider_name: event.provider,
    service_type: event.service,
    event_type: 'breaker_half_open',
    severity: 'info',
    summary: `${nameOf(event)} circuit breaker half-open: trying calls`,
    transition: true,
  };
}

/** The `breaker_close` event. @internal */
export function breakerCloseEvent(event: BreakerCloseEvent): EventDraft {
  return {
    provider_name: event.provider,
    service_type: event.service,
    event_type: 'breaker_close',
    severity: 'info',
    summary: `${nameOf(event)} circuit breaker closed`,
    details: { reason: event.reason },
    transition: true,
  };
}

/**
 * The `status_change` event of a derived status change, or `undefined` for a change to or
 * from `disabled` or `maintenance`: toggle_provider() writes its own event for those.
 * @internal
 */
export function statusChangeEvent(event: ProviderStatusEvent): EventDraft | undefined {
  const severity = STATUS_SEVERITY[event.to];
  if (!severity || !STATUS_SEVERITY[event.from]) {
    return undefined;
  }

  return {
    provider_name: event.provider,
    service_type: event.service,
    event_type: 'status_change',
    severity,
    summary: `${nameOf(event)} is ${event.to} (was ${event.from})`,
    details: { from: event.from, to: event.to },
    transition: true,
  };
}

/**
 * The `health_check_failed` event, or `undefined` for a check that passed or that the
 * breaker refused. The reason is a code, never an error message.
 * @internal
 */
export function checkFailedEvent(result: HealthCheckResult): EventDraft | undefined {
  if (result.passed || REFUSED_CHECKS.has(result.reason ?? '')) {
    return undefined;
  }

  return {
    provider_name: result.provider,
    service_type: result.service,
    event_type: 'health_check_failed',
    severity: 'warning',
    summary: `${nameOf(result)} health check failed: ${result.reason ?? 'unknown'}`,
    details: { reason: result.reason ?? null },
    transition: false,
  };
}

function alertDetails(alert: AlertRaisedEvent | AlertResolvedEvent): Record<string, unknown> {
  return {
    rule: alert.rule,
    level: alert.level,
    value: alert.value,
    threshold: alert.threshold,
    raised_at: alert.raisedAt.toISOString(),
    ...(alert.rule === 'overdue_rotations' ? { key_name: alert.keyName } : {}),
  };
}

/**
 * The `alert_raised` event of an alert raised or changed level; its severity is the alert's
 * level. For an overdue rotation, the provider name is the secret's scope.
 * @internal
 */
export function alertRaisedEvent(alert: AlertRaisedEvent): EventDraft {
  const subject = subjectOf(alert);

  return {
    provider_name: subject.name,
    service_type: subject.service,
    event_type: 'alert_raised',
    severity: alert.level,
    summary: `${alert.level} alert: ${alert.summary}`,
    details: { ...alertDetails(alert), previous_level: alert.previousLevel },
    transition: true,
  };
}

/** The `alert_resolved` event, of severity `info`. @internal */
export function alertResolvedEvent(alert: AlertResolvedEvent): EventDraft {
  const subject = subjectOf(alert);

  return {
    provider_name: subject.name,
    service_type: subject.service,
    event_type: 'alert_resolved',
    severity: 'info',
    summary: `resolved: ${alert.summary}`,
    details: { ...alertDetails(alert), resolved_at: alert.resolvedAt.toISOString() },
    transition: true,
  };
}
