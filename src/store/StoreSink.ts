import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type {
  BreakerCloseEvent,
  BreakerKey,
  BreakerOpenEvent,
  CircuitBreakerRegistry,
} from '../breakers/CircuitBreakerRegistry.js';
import type {
  BreakerCounters,
  BreakerSnapshot,
  ProviderBreaker,
} from '../breakers/ProviderBreaker.js';
import { ValidationError } from '../errors/ValidationError.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { HealthCheckResult, ProviderStatusEvent } from '../health/types.js';
import type { AlertEvents, AlertRaisedEvent, AlertResolvedEvent } from '../metrics/alerts.js';
import type { Listenable } from '../metrics/options.js';
import { asError, STORE_TIMEOUT_CODE, withDeadline } from './deadline.js';
import type { M28Store } from './M28Store.js';
import {
  alertRaisedEvent,
  alertResolvedEvent,
  breakerCloseEvent,
  breakerHalfOpenEvent,
  breakerOpenEvent,
  checkFailedEvent,
  statusChangeEvent,
  type EventDraft,
  type PendingEvent,
} from './operationalEvents.js';
import { ToggleSync } from './ToggleSync.js';
import { restoreProviders } from './restore.js';

/** What was last written for one provider, and by which breaker. */
interface Persisted {
  readonly breaker: ProviderBreaker | undefined;
  readonly counters: BreakerCounters;
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

// setInterval and setTimeout fire after 1 ms when asked for more than 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

function positiveInteger(value: number | undefined, field: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_DELAY_MS) {
    throw new ValidationError([
      { field, rule: `must be an integer from 1 to ${MAX_TIMER_DELAY_MS}`, received: value },
    ]);
  }

  return value;
}

const noop = () => undefined;

// The shortest time an instance's breaker report stays in the health row's worst-of.
const MIN_FRESH_MS = 15_000;

/**
 * Persists the registry's and the monitor's state without touching the call path: it buffers
 * transitions and writes them promptly but asynchronously, and writes one coalesced snapshot
 * per changed provider every flush interval, in one statement. Failures become `error`
 * events and the loop keeps going.
 *
 * @example
 * ```ts
 * const sink = new StoreSink({ store, registry, monitor, flushIntervalMs: 1000 });
 * sink.on('error', (error) => logger.warn(error));
 * await sink.start();
 * // ... calls go through the registry; the sink writes in the background ...
 * await sink.close();
 * ```
 */
export class StoreSink extends EventEmitter<StoreSinkEvents> {
  readonly #store: M28Store;
  readonly #registry: CircuitBreakerRegistry;
  readonly #monitor: ProviderHealthMonitor;
  readonly #alerts: StoreSinkOptions['alerts'];
  readonly #flushIntervalMs: number;
  readonly #maxBufferedEvents: number;
  readonly #storeTimeoutMs: number;
  readonly #instanceId: string;
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
  readonly #persisted = new Map<string, Persisted>();
  readonly #dirty = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #promptTimer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> | undefined;
  #lateWrite: Promise<void> | undefined;
  #lateSince = 0;
  #queued: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #retryAt = 0;
  #failuresInARow = 0;
  #started = false;

  /** @throws {@link ValidationError} when an interval, the bound or the timeout is out of range. */
  constructor(options: StoreSinkOptions) {
    super();
    this.#store = options.store;
    this.#registry = options.registry;
    this.#monitor = options.monitor;
    this.#alerts = options.alerts;
    this.#flushIntervalMs = positiveInteger(options.flushIntervalMs, 'flushIntervalMs') ?? 5000;
    this.#maxBufferedEvents =
      positiveInteger(options.maxBufferedEvents, 'maxBufferedEvents') ?? 10_000;
    this.#storeTimeoutMs = positiveInteger(options.storeTimeoutMs, 'storeTimeoutMs') ?? 30_000;
    this.#instanceId = options.instanceId ?? randomUUID();
    this.#sync = new ToggleSync({
      store: this.#store,
      monitor: this.#monitor,
      pollIntervalMs: positiveInteger(options.pollIntervalMs, 'pollIntervalMs'),
      timeoutMs: this.#storeTimeoutMs,
      onError: (error) => this.emit('error', error),
    });
  }

  /** What the sink has written so far. */
  get stats(): Readonly<StoreSinkStats> {
    return { ...this.#stats };
  }

  /**
   * Subscribes to toggles, restores breakers and toggles from the database, then starts
   * writing. Idempotent.
   * @throws the translated database error when the stored state cannot be read; nothing is
   * left running, and `start()` may be called again.
   */
  async start(): Promise<void> {
    if (this.#started) {
      return;
    }

    this.#started = true;
    await this.#closing;
    // Subscribe first: a toggle made while the stored state is read is then not missed.
    await this.#sync.start();
    try {
      await restoreProviders(this.#store, this.#registry, this.#monitor);
    } catch (error) {
      this.#started = false;
      await this.#sync.close();
      throw error;
    }
    if (!this.#started) {
      // close() ran while the stored state was read.
      return;
    }

    this.#closing = undefined;
    this.#registry.on('breaker:open', this.#onOpen);
    this.#registry.on('breaker:half_open', this.#onHalfOpen);
    this.#registry.on('breaker:close', this.#onClose);
    this.#monitor.on('provider:status', this.#onStatus);
    this.#monitor.on('health:checked', this.#onChecked);
    this.#alerts?.on('alert:raised', this.#onAlertRaised);
    this.#alerts?.on('alert:resolved', this.#onAlertResolved);
    this.#timer = setInterval(() => this.#flushInBackground(), this.#flushIntervalMs);
    this.#timer.unref?.();
  }

  /**
   * Stops the timers, then writes everything buffered once more, after any flush in flight.
   * A failure of that last write is an `error` event. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#started) {
      return this.#closing ?? Promise.resolve();
    }

    this.#started = false;
    this.#closing = this.#stop();

    return this.#closing;
  }

  async #stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#promptTimer);
    this.#timer = undefined;
    this.#promptTimer = undefined;
    this.#registry.off('breaker:open', this.#onOpen);
    this.#registry.off('breaker:half_open', this.#onHalfOpen);
    this.#registry.off('breaker:close', this.#onClose);
    this.#monitor.off('provider:status', this.#onStatus);
    this.#monitor.off('health:checked', this.#onChecked);
    this.#alerts?.off('alert:raised', this.#onAlertRaised);
    this.#alerts?.off('alert:resolved', this.#onAlertResolved);
    await this.#sync.close();
    this.#retryAt = 0;
    await this.flush().catch((error: unknown) => this.emit('error', asError(error)));
  }

  /**
   * Writes every buffered event and every changed provider's snapshot now, in one
   * transaction. Never runs twice at once: called during a flush, it resolves once the next
   * flush, which takes what was buffered since, has run.
   * @throws the translated database error, or an `M28_STORE_TIMEOUT` error after
   * `storeTimeoutMs`; what was buffered stays buffered.
   */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#write().finally(() => {
        this.#flushing = undefined;
      });

      return this.#flushing;
    }

    this.#queued ??= this.#flushing.then(noop, noop).then(() => {
      this.#queued = undefined;

      return this.flush();
    });

    return this.#queued;
  }

  async #write(): Promise<void> {
    // A transaction that outlived its deadline may still commit: none starts beside it, for
    // ten deadlines. A connection hung longer than that is given up on, so that the sink
    // lives on; should that one commit even later, its counts are written twice.
    if (this.#lateWrite && Date.now() - this.#lateSince < 10 * this.#storeTimeoutMs) {
      await withDeadline(this.#lateWrite, this.#storeTimeoutMs, 'a late store flush');
    }
    this.#lateWrite = undefined;

    const snapshots = this.#registry
      .list()
      .filter((snapshot) => this.#changed(snapshot))
      .map((snapshot) => this.#row(snapshot));
    const events = this.#events;
    if (snapshots.length === 0 && events.length === 0) {
      return;
    }

    this.#events = [];
    // Marks made while this batch is in flight stay, for the next one.
    for (const { key } of snapshots) {
      this.#dirty.delete(key);
    }
    const rows = JSON.stringify(snapshots.map((s) => s.row));
    const work = this.#store.withRole('m28_system', (tx) =>
      this.#store.query(
        sql`select m28.record_provider_snapshots(${rows}::jsonb),
          m28.record_provider_events(${JSON.stringify(events)}::jsonb)`,
        tx,
      ),
    );
    try {
      await withDeadline(work, this.#storeTimeoutMs, 'a store flush');
    } catch (error) {
      if ((error as { code?: unknown }).code === STORE_TIMEOUT_CODE) {
        // Should it commit after all, its counts are written: the next batch starts there.
        // Its events are sent again below, and their keys keep them from landing twice.
        this.#lateSince = Date.now();
        const late: Promise<void> = work
          .then(
            () => {
              for (const { key, breaker, counters } of snapshots) {
                this.#persisted.set(key, { breaker, counters });
              }
            },
            () => undefined,
          )
          .finally(() => {
            if (this.#lateWrite === late) {
              this.#lateWrite = undefined;
            }
          });
        this.#lateWrite = late;
      }
      // Keep the events, ahead of any that arrived since. Should the batch have committed
      // unacknowledged, their keys make sending them again harmless.
      this.#events = [...events, ...this.#events];
      for (const { key } of snapshots) {
        this.#dirty.add(key);
      }
      this.#stats.failures += 1;
      this.#failuresInARow += 1;
      const backoff = Math.min(30_000, 250 * 2 ** this.#failuresInARow);
      const delay = Math.round(backoff * (0.5 + Math.random() / 2));
      this.#retryAt = Date.now() + delay;
      this.#trimEvents();
      if (this.#events.some((event) => event.transition)) {
        this.#schedulePrompt(delay);
      }
      throw error;
    }

    this.#failuresInARow = 0;
    this.#retryAt = 0;
    for (const { key, breaker, counters } of snapshots) {
      this.#persisted.set(key, { breaker, counters });
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
    // A queued flush is already awaited by whoever queued it.
    if (this.#queued || Date.now() < this.#retryAt) {
      return;
    }

    this.flush().catch((error: unknown) => this.emit('error', asError(error)));
  }

  #changed(snapshot: BreakerSnapshot): boolean {
    const key = `${snapshot.provider}/${snapshot.service}`;
    const last = this.#baseline(snapshot);

    if (this.#dirty.has(key) || !last) {
      return true;
    }

    // A call in flight at the last flush counted in `fires` then; its outcome counts now.
    const now = snapshot.counters;

    return (
      last.fires !== now.fires ||
      last.successes !== now.successes ||
      last.failures !== now.failures ||
      last.rejects !== now.rejects ||
      last.timeouts !== now.timeouts
    );
  }

  // The counters last written for this provider, if written from the breaker it has now: a
  // breaker disposed and created again counts from zero, and its deltas must not go negative.
  #baseline(snapshot: BreakerSnapshot): BreakerCounters | undefined {
    const last = this.#persisted.get(`${snapshot.provider}/${snapshot.service}`);
    const breaker = this.#registry.get(snapshot.provider, snapshot.service);

    return last && last.breaker === breaker ? last.counters : undefined;
  }

  #row(snapshot: BreakerSnapshot) {
    const key = `${snapshot.provider}/${snapshot.service}`;
    const last = this.#baseline(snapshot);
    const counters = snapshot.counters;
    const status = this.#monitor.statusOf(snapshot.provider, snapshot.service);
    const circuit = snapshot.circuit;
    const delta = (field: keyof BreakerCounters) => counters[field] - (last?.[field] ?? 0);

    return {
      key,
      breaker: this.#registry.get(snapshot.provider, snapshot.service),
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
        instance_id: this.#instanceId,
        // A report counts for three flushes, so an instance still calling stays in the
        // worst-of; an open breaker's counts until its next attempt whatever this says.
        fresh_ms: Math.max(3 * this.#flushIntervalMs, MIN_FRESH_MS),
      },
    };
  }

  #enqueue(event: EventDraft): void {
    this.#events.push({
      ...event,
      details: event.details ?? {},
      event_key: randomUUID(),
      created_at: new Date().toISOString(),
    });
    // An alert changes nothing in the provider's health row; a secret's alert has no row.
    if (event.event_type !== 'alert_raised' && event.event_type !== 'alert_resolved') {
      this.#dirty.add(`${event.provider_name}/${event.service_type}`);
    }
    this.#trimEvents();
    if (event.transition) {
      // Prompt, but never on the caller's stack: the next turn of the event loop.
      this.#schedulePrompt(0);
    }
  }

  // Transitions are written promptly: after a failed flush, once its backoff has passed
  // rather than at the next interval.
  #schedulePrompt(delayMs: number): void {
    if (this.#promptTimer || !this.#started) {
      return;
    }

    this.#promptTimer = setTimeout(() => {
      this.#promptTimer = undefined;
      const wait = this.#retryAt - Date.now();
      if (wait > 0) {
        this.#schedulePrompt(wait);
      } else {
        this.#flushInBackground();
      }
    }, delayMs);
    this.#promptTimer.unref?.();
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

  readonly #onOpen = (event: BreakerOpenEvent): void => this.#enqueue(breakerOpenEvent(event));

  readonly #onHalfOpen = (event: BreakerKey): void => this.#enqueue(breakerHalfOpenEvent(event));

  readonly #onClose = (event: BreakerCloseEvent): void => this.#enqueue(breakerCloseEvent(event));

  readonly #onStatus = (event: ProviderStatusEvent): void => {
    const draft = statusChangeEvent(event);
    if (draft) {
      this.#enqueue(draft);
    } else {
      this.#dirty.add(`${event.provider}/${event.service}`);
    }
  };

  readonly #onChecked = (result: HealthCheckResult): void => {
    this.#dirty.add(`${result.provider}/${result.service}`);
    const draft = checkFailedEvent(result);
    if (draft) {
      this.#enqueue(draft);
    }
  };

  readonly #onAlertRaised = (alert: AlertRaisedEvent): void =>
    this.#enqueue(alertRaisedEvent(alert));

  readonly #onAlertResolved = (alert: AlertResolvedEvent): void =>
    this.#enqueue(alertResolvedEvent(alert));
}
