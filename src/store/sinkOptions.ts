import { randomUUID } from 'node:crypto';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { AlertEvents } from '../metrics/alerts.js';
import { timerOption, type Listenable } from '../metrics/options.js';
import type { M28Store } from './M28Store.js';

/** Options of {@link StoreSink}. */
export interface StoreSinkOptions {
  /** Where snapshots and events are written, as `m28_system`. */
  readonly store: M28Store;
  /** The breakers whose counters and transitions are written. */
  readonly registry: CircuitBreakerRegistry;
  /** The monitor whose statuses and checks are written, and which toggles are applied to. */
  readonly monitor: ProviderHealthMonitor;
  /** The alert evaluator whose transitions are written as `alert_raised` and `alert_resolved`. */
  readonly alerts?: Listenable<AlertEvents>;
  /**
   * Milliseconds between snapshot flushes.
   * @defaultValue 5000
   */
  readonly flushIntervalMs?: number;
  /**
   * Most events held while the database is slow or down.
   * @defaultValue 10000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Milliseconds between polls of the toggles; 1000 when the driver cannot LISTEN.
   * @defaultValue 5000
   */
  readonly pollIntervalMs?: number;
  /**
   * Milliseconds a flush or a toggle poll may take before it counts as failed and is tried
   * again, so that a hung connection stalls neither the loop nor `close()`. The next flush
   * waits for a timed-out one for up to ten such deadlines, and counts it if it commits;
   * only a transaction hung longer than that can have its counter deltas written twice.
   * @defaultValue 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * This instance's id in `provider_breaker_reports`, where each instance's breaker state is
   * kept so that the health row shows the worst of them.
   * @defaultValue a random UUID
   */
  readonly instanceId?: string;
}

/** The numbers and the id of {@link StoreSinkOptions}, checked, defaults filled in. @internal */
export interface SinkSettings {
  readonly flushIntervalMs: number;
  readonly maxBufferedEvents: number;
  readonly storeTimeoutMs: number;
  readonly instanceId: string;
  /** Left to ToggleSync, whose default depends on whether the driver can LISTEN. */
  readonly pollIntervalMs: number | undefined;
}

/**
 * Checks the sink's intervals, bound and timeout, and fills in their defaults.
 * @throws `ValidationError` for the first one out of range.
 * @internal
 */
export function sinkSettings(options: StoreSinkOptions): SinkSettings {
  return {
    flushIntervalMs: timerOption(options.flushIntervalMs, 'flushIntervalMs', 5000),
    maxBufferedEvents: timerOption(options.maxBufferedEvents, 'maxBufferedEvents', 10_000),
    storeTimeoutMs: timerOption(options.storeTimeoutMs, 'storeTimeoutMs', 30_000),
    instanceId: options.instanceId ?? randomUUID(),
    // Left out, ToggleSync picks 5 s, or 1 s when the driver cannot LISTEN.
    pollIntervalMs:
      options.pollIntervalMs === undefined
        ? undefined
        : timerOption(options.pollIntervalMs, 'pollIntervalMs', 0),
  };
}
