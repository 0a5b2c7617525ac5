import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { BreakerCounters, BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import type { Severity } from '../domain/vocabularies.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { M28Store } from './M28Store.js';
import { ToggleSync } from './ToggleSync.js';
import { restoreProviders } from './restore.js';

/** An operational event row waiting to be written. */
interface PendingEvent {
  readonly event_key: string;
  readonly provider_name: string;
  readonly service_type: string;
  readonly event_type: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly details: Record<string, unknown>;
  readonly created_at: string;
  /** Breaker transitions are never dropped; other events may be, oldest first. */
  readonly transition: boolean;
}

/** Counts of what the sink wrote, for benchmarks and tests. */
export interface StoreSinkStats {
  /** SQL statements issued, `set local role` included; BEGIN and COMMIT not. */
  statements: number;
  /** Flushes that committed. */
  flushes: number;
  /** Health rows written. */
  snapshots: number;
  /** Operational event rows written. */
  events: number;
  /** Events dropped because the buffer was full. */
  dropped: number;
  /** Flushes that failed and will be retried. */
  failures: number;
}

/** Events of {@link StoreSink}. */
export interface StoreSinkEvents {
  /** A flush committed. */
  'store:flushed': (event: { snapshots: number; events: number; statements: number }) => void;
  /** The buffer was full: this many events were dropped, oldest first, transitions never. */
  'store:dropped': (event: { events: number; totalDropped: number }) => void;
  /** A write failed; the sink keeps what it had and tries again later. */
  error: (error: Error) => void;
}

/** Options of {@link StoreSink}. */
export interface StoreSinkOptions {
  readonly store: M28Store;
  readonly registry: CircuitBreakerRegistry;
  readonly monitor: ProviderHealthMonitor;
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
}

const STATUS_SEVERITY: Record<string, Severity> = {
  healthy: 'info',
  degraded: 'warning',
  unhealthy: 'error',
};

/**
 * Persists the registry's and the monitor's state without touching the call path: it buffers
 * transitions and writes them promptly but asynchronously, and writes one coalesced snapshot
 * per changed provider every flush interval, in one statement. Failures become `error`
 * events and the loop keeps going.
 */
export class StoreSink extends EventEmitter<StoreSinkEvents> {
  readonly #store: M28Store;
  readonly #registry: CircuitBreakerRegistry;
  readonly #monitor: ProviderHealthMonitor;
  readonly #flushIntervalMs: number;
  readonly #maxBufferedEvents: number;
  readonly #sync: ToggleSync;
  readonly #stats: StoreSinkStats = {
    statements: 0,
    flushes: 0,
    snapshots: 0,
    events: 0,
    dropped: 0,
    failures: 0,
  };
  #events: PendingEvent[] = [];
  readonly #persisted = new Map<string, BreakerCounters>();
  readonly #dirty = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #promptTimer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> | undefined;
  #again = false;
  #retryAt = 0;
  #failuresInARow = 0;
  #started = false;

  constructor(options: StoreSinkOptions) {
    super();
    this.#store = options.store;
    this.#registry = options.registry;
    this.#monitor = options.monitor;
    this.#flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.#maxBufferedEvents = options.maxBufferedEvents ?? 10_000;
    this.#sync = new ToggleSync(this.#store, this.#monitor, options.pollIntervalMs, (error) =>
      this.emit('error', error),
    );
  }

  /** What the sink has written so far. */
  get stats(): Readonly<StoreSinkStats> {
    return { ...this.#stats };
  }

  /** Restores breakers and toggles from the database, then starts writing. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) {
      return;
    }

    this.#started = true;
    await restoreProviders(this.#store, this.#registry, this.#monitor);
    this.#registry.on('breaker:open', this.#onOpen);
    this.#registry.on('breaker:half_open', this.#onHalfOpen);
    this.#registry.on('breaker:close', this.#onClose);
    this.#monitor.on('provider:status', this.#onStatus);
    this.#monitor.on('health:checked', this.#onChecked);
    this.#timer = setInterval(() => this.#flushInBackground(), this.#flushIntervalMs);
    this.#timer.unref?.();
    await this.#sync.start();
  }

  /** Stops the timers, then writes what is buffered once more. Idempotent. */
  async close(): Promise<void> {
    if (!this.#started) {
      return;
    }

    this.#started = false;
    clearInterval(this.#timer);
    clearTimeout(this.#promptTimer);
    this.#registry.off('breaker:open', this.#onOpen);
    this.#registry.off('breaker:half_open', this.#onHalfOpen);
    this.#registry.off('breaker:close', this.#onClose);
    this.#monitor.off('provider:status', this.#onStatus);
    this.#monitor.off('health:checked', this.#onChecked);
    await this.#sync.close();
    this.#retryAt = 0;
    await this.flush().catch(() => undefined);
  }

  /**
   * Writes every buffered event and every changed provider's snapshot now, in one
   * transaction. Never runs twice at once: a call during a flush runs right after it.
   * @throws the translated database error; what was buffered stays buffered.
   */
  flush(): Promise<void> {
    if (this.#flushing) {
      this.#again = true;

      return this.#flushing;
    }

    this.#flushing = this.#write().finally(() => {
      this.#flushing = undefined;
      if (this.#again) {
        this.#again = false;
        this.#flushInBackground();
      }
    });

    return this.#flushing;
  }

  async #write(): Promise<void> {
    const snapshots = this.#registry
      .list()
      .filter((snapshot) => this.#changed(snapshot))
      .map((snapshot) => this.#row(snapshot));
    const events = this.#events;
    if (snapshots.length === 0 && events.length === 0) {
      return;
    }

    this.#events = [];
    try {
      await this.#store.withRole('m28_system', (tx) =>
        this.#store.query(
          sql`select m28.record_provider_snapshots(${JSON.stringify(snapshots.map((s) => s.row))}::jsonb),
            m28.record_provider_events(${JSON.stringify(events)}::jsonb)`,
          tx,
        ),
      );
    } catch (error) {
      // Nothing was committed: keep the events, ahead of any that arrived since.
      this.#events = [...events, ...this.#events];
      this.#stats.failures += 1;
      this.#failuresInARow += 1;
      const backoff = Math.min(30_000, 250 * 2 ** this.#failuresInARow);
      this.#retryAt = Date.now() + backoff * (0.5 + Math.random() / 2);
      this.#trimEvents();
      throw error;
    }

    this.#failuresInARow = 0;
    this.#retryAt = 0;
    for (const { key, counters } of snapshots) {
      this.#persisted.set(key, counters);
      this.#dirty.delete(key);
    }
    this.#stats.statements += 2;
    this.#stats.flushes += 1;
    this.#stats.snapshots += snapshots.length;
    this.#stats.events += events.length;
    this.emit('store:flushed', {
      snapshots: snapshots.length,
      events: events.length,
      statements: 2,
    });
  }

  #flushInBackground(): void {
    if (Date.now() < this.#retryAt) {
      return;
    }

    this.flush().catch((error: unknown) => {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    });
  }

  #changed(snapshot: BreakerSnapshot): boolean {
    const key = `${snapshot.provider}/${snapshot.service}`;
    const last = this.#persisted.get(key);

    return this.#dirty.has(key) || !last || last.fires !== snapshot.counters.fires;
  }

  #row(snapshot: BreakerSnapshot) {
    const key = `${snapshot.provider}/${snapshot.service}`;
    const last = this.#persisted.get(key);
    const counters = snapshot.counters;
    const status = this.#monitor.statusOf(snapshot.provider, snapshot.service);
    const circuit = snapshot.circuit;
    const delta = (field: keyof BreakerCounters) => counters[field] - (last?.[field] ?? 0);

    return {
      key,
      counters,
      row: {
        provider_name: snapshot.provider,
        service_type: snapshot.service,
        status: status?.status ?? 'healthy',
        circuit_breaker_state: circuit.state,
        circuit_breaker_failures: snapshot.consecutiveFailures,
        circuit_breaker_opened_at: circuit.state === 'open' ? circuit.openedAt : null,
        circuit_breaker_next_attempt: circuit.state === 'open' ? circuit.nextAttemptAt : null,
        response_time_ms: status?.responseTimeMs ?? null,
        success_rate: status?.successRate ?? null,
        last_health_check: status?.lastCheck?.at ?? null,
        calls_delta: delta('fires'),
        successes_delta: delta('successes'),
        failures_delta: delta('failures'),
        rejects_delta: delta('rejects'),
        timeouts_delta: delta('timeouts'),
      },
    };
  }

  #enqueue(
    event: Omit<PendingEvent, 'event_key' | 'created_at' | 'details'> & {
      details?: Record<string, unknown>;
    },
  ): void {
    this.#events.push({
      ...event,
      details: event.details ?? {},
      event_key: randomUUID(),
      created_at: new Date().toISOString(),
    });
    this.#dirty.add(`${event.provider_name}/${event.service_type}`);
    this.#trimEvents();
    if (event.transition && !this.#promptTimer) {
      // Prompt, but never on the caller's stack: the next turn of the event loop.
      this.#promptTimer = setTimeout(() => {
        this.#promptTimer = undefined;
        this.#flushInBackground();
      }, 0);
      this.#promptTimer.unref?.();
    }
  }

  #trimEvents(): void {
    let excess = this.#events.length - this.#maxBufferedEvents;
    if (excess <= 0) {
      return;
    }

    let dropped = 0;
    this.#events = this.#events.filter((event) => {
      if (excess > 0 && !event.transition) {
        excess -= 1;
        dropped += 1;

        return false;
      }

      return true;
    });
    if (dropped > 0) {
      this.#stats.dropped += dropped;
      this.emit('store:dropped', { events: dropped, totalDropped: this.#stats.dropped });
    }
  }

  readonly #onOpen = (event: {
    provider: string;
    service: string;
    openedAt: Date;
    nextAttemptAt: Date;
    failures: number;
  }): void => {
    this.#enqueue({
      provider_name: event.provider,
      service_type: event.service,
      event_type: 'breaker_open',
      severity: 'error',
      summary: `${event.provider}/${event.service} circuit breaker opened`,
      details: {
        opened_at: event.openedAt.toISOString(),
        next_attempt_at: event.nextAttemptAt.toISOString(),
        failures: event.failures,
      },
      transition: true,
    });
  };

  readonly #onHalfOpen = (event: { provider: string; service: string }): void => {
    this.#enqueue({
      provider_name: event.provider,
      service_type: event.service,
      event_type: 'breaker_half_open',
      severity: 'info',
      summary: `${event.provider}/${event.service} circuit breaker half-open: trying calls`,
      transition: true,
    });
  };

  readonly #onClose = (event: { provider: string; service: string; reason: string }): void => {
    this.#enqueue({
      provider_name: event.provider,
      service_type: event.service,
      event_type: 'breaker_close',
      severity: 'info',
      summary: `${event.provider}/${event.service} circuit breaker closed`,
      details: { reason: event.reason },
      transition: true,
    });
  };

  readonly #onStatus = (event: {
    provider: string;
    service: string;
    from: string;
    to: string;
  }): void => {
    // Toggles write their own event in toggle_provider(); only derived changes come here.
    const severity = STATUS_SEVERITY[event.to];
    if (!severity || !STATUS_SEVERITY[event.from]) {
      this.#dirty.add(`${event.provider}/${event.service}`);

      return;
    }

    this.#enqueue({
      provider_name: event.provider,
      service_type: event.service,
      event_type: 'status_change',
      severity,
      summary: `${event.provider}/${event.service} is ${event.to} (was ${event.from})`,
      details: { from: event.from, to: event.to },
      transition: true,
    });
  };

  readonly #onChecked = (result: {
    provider: string;
    service: string;
    passed: boolean;
    reason?: string;
  }): void => {
    this.#dirty.add(`${result.provider}/${result.service}`);
    if (result.passed || result.reason === 'circuit_breaker_open') {
      return;
    }

    this.#enqueue({
      provider_name: result.provider,
      service_type: result.service,
      event_type: 'health_check_failed',
      severity: 'warning',
      summary: `${result.provider}/${result.service} health check failed: ${result.reason ?? ''}`,
      details: { reason: result.reason ?? null },
      transition: false,
    });
  };
}
