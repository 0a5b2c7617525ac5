import type {
  BreakerCloseEvent,
  BreakerKey,
  BreakerOpenEvent,
  CircuitBreakerRegistry,
} from '../breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { HealthCheckResult, ProviderStatusEvent } from '../health/types.js';
import type { AlertEvents, AlertRaisedEvent, AlertResolvedEvent } from '../metrics/alerts.js';
import type { Listenable } from '../metrics/options.js';
import {
  alertRaisedEvent,
  alertResolvedEvent,
  breakerCloseEvent,
  breakerHalfOpenEvent,
  breakerOpenEvent,
  checkFailedEvent,
  statusChangeEvent,
  type EventDraft,
} from './operationalEvents.js';

/** What {@link SourceListeners} listen to. @internal */
export interface SinkSources {
  readonly registry: CircuitBreakerRegistry;
  readonly monitor: ProviderHealthMonitor;
  readonly alerts: Listenable<AlertEvents> | undefined;
}

/** What {@link SourceListeners} hand what they hear to. @internal */
export interface SinkRecorder {
  /** Buffers an operational event. */
  readonly enqueue: (event: EventDraft) => void;
  /** Has the provider's health row written at the next flush. */
  readonly mark: (provider: string, service: string) => void;
}

/**
 * The sink's listeners on the breakers' transitions, the monitor's statuses and checks, and
 * the alerts: each becomes an operational event, a mark on the provider's health row, or
 * both. Made once per sink, so that every `detach()` removes what any `attach()` added.
 * @internal
 */
export class SourceListeners {
  readonly #sources: SinkSources;
  readonly #recorder: SinkRecorder;

  constructor(sources: SinkSources, recorder: SinkRecorder) {
    this.#sources = sources;
    this.#recorder = recorder;
  }

  /** Starts listening. */
  attach(): void {
    const { registry, monitor, alerts } = this.#sources;
    registry.on('breaker:open', this.#onOpen);
    registry.on('breaker:half_open', this.#onHalfOpen);
    registry.on('breaker:close', this.#onClose);
    monitor.on('provider:status', this.#onStatus);
    monitor.on('health:checked', this.#onChecked);
    alerts?.on('alert:raised', this.#onAlertRaised);
    alerts?.on('alert:resolved', this.#onAlertResolved);
  }

  /** Stops listening. */
  detach(): void {
    const { registry, monitor, alerts } = this.#sources;
    registry.off('breaker:open', this.#onOpen);
    registry.off('breaker:half_open', this.#onHalfOpen);
    registry.off('breaker:close', this.#onClose);
    monitor.off('provider:status', this.#onStatus);
    monitor.off('health:checked', this.#onChecked);
    alerts?.off('alert:raised', this.#onAlertRaised);
    alerts?.off('alert:resolved', this.#onAlertResolved);
  }

  readonly #onOpen = (event: BreakerOpenEvent): void =>
    this.#recorder.enqueue(breakerOpenEvent(event));

  readonly #onHalfOpen = (event: BreakerKey): void =>
    this.#recorder.enqueue(breakerHalfOpenEvent(event));

  readonly #onClose = (event: BreakerCloseEvent): void =>
    this.#recorder.enqueue(breakerCloseEvent(event));

  readonly #onStatus = (event: ProviderStatusEvent): void => {
    const draft = statusChangeEvent(event);
    if (draft) {
      this.#recorder.enqueue(draft);
    } else {
      this.#recorder.mark(event.provider, event.service);
    }
  };

  readonly #onChecked = (result: HealthCheckResult): void => {
    this.#recorder.mark(result.provider, result.service);
    const draft = checkFailedEvent(result);
    if (draft) {
      this.#recorder.enqueue(draft);
    }
  };

  readonly #onAlertRaised = (alert: AlertRaisedEvent): void =>
    this.#recorder.enqueue(alertRaisedEvent(alert));

  readonly #onAlertResolved = (alert: AlertResolvedEvent): void =>
    this.#recorder.enqueue(alertResolvedEvent(alert));
}
