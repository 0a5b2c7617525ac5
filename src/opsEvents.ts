import type { EventEmitter } from 'eventemitter3';

import type { RegistryEvents } from './breakers/CircuitBreakerRegistry.js';
import type { MonitorEvents } from './health/ProviderHealthMonitor.js';
import type { AlertEvents } from './metrics/alerts.js';
import type { OperationalMetricsEvents } from './metrics/OperationalMetricsWriter.js';
import type { SchedulerEvents } from './rotation/RotationScheduler.js';
import type { SecretsEvents } from './secrets/types.js';
import type { StoreSinkEvents } from './store/StoreSink.js';

/** Every event of the parts, on one stream. */
export type OpsEvents = RegistryEvents &
  Omit<MonitorEvents, 'error'> &
  Omit<StoreSinkEvents, 'error'> &
  SecretsEvents &
  Omit<SchedulerEvents, 'error'> &
  Omit<AlertEvents, 'error'> &
  Omit<OperationalMetricsEvents, 'error'> & {
    /** A background task failed; everything keeps running. */
    error: (error: Error) => void;
  };

/** The events {@link M28Ops} passes on from each of its parts, in the order it listens. */
const FORWARDED = {
  registry: ['breaker:open', 'breaker:half_open', 'breaker:close'],
  monitor: ['health:checked', 'provider:status', 'provider:toggle', 'breaker:reset', 'error'],
  sink: ['store:flushed', 'store:dropped', 'error'],
  secrets: [
    'secret:registered',
    'rotation:started',
    'rotation:completed',
    'rotation:failed',
    'rotation:cancelled',
    'rotation:rolled_back',
  ],
  scheduler: [
    'rotation:due',
    'rotation:overdue',
    'rotation:reminder',
    'scheduler:scanned',
    'rotation:lease_expired',
    'error',
  ],
  alerts: ['alert:raised', 'alert:resolved', 'error'],
  writer: ['metrics:written', 'error'],
} as const;

/** Emits on `target` each of `names` that `source` emits, with the same arguments. */
function forwardEvents(target: EventEmitter, source: EventEmitter, names: readonly string[]): void {
  for (const name of names) {
    source.on(name, (...args: unknown[]) => {
      (target.emit as (event: string, ...rest: unknown[]) => boolean)(name, ...args);
    });
  }
}

/**
 * Emits on `target` the {@link FORWARDED} events of each part that is there.
 * @internal
 */
export function forwardParts(
  target: EventEmitter,
  parts: { readonly [Part in keyof typeof FORWARDED]: EventEmitter | undefined },
): void {
  for (const part of Object.keys(FORWARDED) as (keyof typeof FORWARDED)[]) {
    const source = parts[part];
    if (source) {
      forwardEvents(target, source, FORWARDED[part]);
    }
  }
}
