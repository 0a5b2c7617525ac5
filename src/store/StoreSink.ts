import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import { asError, STORE_TIMEOUT_CODE, withDeadline } from './deadline.js';
import { EventBuffer } from './eventBuffer.js';
import { FlushBackoff, LateFlush, PromptFlush } from './flushRetry.js';
import type { M28Store } from './M28Store.js';
import type { EventDraft } from './operationalEvents.js';
import { restoreProviders } from './restore.js';
import { sinkSettings, type StoreSinkOptions } from './sinkOptions.js';
import { SnapshotRows } from './snapshotRows.js';
import { SourceListeners } from './sourceListeners.js';
import { ToggleSync } from './ToggleSync.js';

export type { StoreSinkOptions } from './sinkOptions.js';

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

const noop = () => undefined;

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
  readonly #flushIntervalMs: number;
  readonly #storeTimeoutMs: number;
  readonly #sync: ToggleSync;
  readonly #stats: StoreSinkStats = {
    statements: 0,
    flushes: 0,
    snapshots: 0,
    events: 0,
    dropped: 0,
    failures: 0,
  };
  readonly #events: EventBuffer;
  readonly #snapshots: SnapshotRows;
  readonly #backoff = new FlushBackoff();
  readonly #lateFlush: LateFlush;
  readonly #listeners: SourceListeners;
  readonly #prompt: PromptFlush;
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #started = false;

  /** @throws {@link ValidationError} when an interval, the bound or the timeout is out of range. */
  constructor(options: StoreSinkOptions) {
    super();
    const settings = sinkSettings(options);
    this.#store = options.store;
    this.#registry = options.registry;
    this.#monitor = options.monitor;
    this.#flushIntervalMs = settings.flushIntervalMs;
    this.#storeTimeoutMs = settings.storeTimeoutMs;
    this.#events = new EventBuffer(settings.maxBufferedEvents, (dropped) => {
      this.#stats.dropped += dropped;
      this.emit('store:dropped', { events: dropped, totalDropped: this.#stats.dropped });
    });
    this.#snapshots = new SnapshotRows({
      registry: this.#registry,
      monitor: this.#monitor,
      instanceId: settings.instanceId,
      flushIntervalMs: settings.flushIntervalMs,
    });
    this.#lateFlush = new LateFlush(settings.storeTimeoutMs);
    this.#prompt = new PromptFlush(
      this.#backoff,
      () => this.#flushInBackground(),
      () => this.#started,
    );
    this.#listeners = new SourceListeners(
      { registry: this.#registry, monitor: this.#monitor, alerts: options.alerts },
      {
        enqueue: (event) => this.#enqueue(event),
        mark: (provider, service) => this.#snapshots.mark(provider, service),
      },
    );
    this.#sync = new ToggleSync({
      store: this.#store,
      monitor: this.#monitor,
      pollIntervalMs: settings.pollIntervalMs,
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
    this.#listeners.attach();
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
    this.#prompt.cancel();
    this.#timer = undefined;
    this.#listeners.detach();
    await this.#sync.close();
    this.#backoff.skip();
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
    // Awaited only when there is a late flush: otherwise the batch is taken at once.
    const late = this.#lateFlush.settle();
    if (late) {
      await late;
    }

    const snapshots = this.#snapshots.take();
    const events = this.#events.take();
    if (snapshots.length === 0 && events.length === 0) {
      return;
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
        this.#lateFlush.follow(work, () => this.#snapshots.written(snapshots));
      }
      this.#snapshots.retry(snapshots);
      this.#stats.failures += 1;
      const delay = this.#backoff.failed();
      // Keep the events, ahead of any that arrived since. Should the batch have committed
      // unacknowledged, their keys make sending them again harmless.
      this.#events.restore(events);
      if (this.#events.hasTransition()) {
        this.#prompt.schedule(delay);
      }
      throw error;
    }

    this.#backoff.succeeded();
    this.#snapshots.written(snapshots);
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
    if (this.#queued || this.#backoff.remainingMs > 0) {
      return;
    }

    this.flush().catch((error: unknown) => this.emit('error', asError(error)));
  }

  #enqueue(event: EventDraft): void {
    // An alert changes nothing in the provider's health row; a secret's alert has no row.
    if (event.event_type !== 'alert_raised' && event.event_type !== 'alert_resolved') {
      this.#snapshots.mark(event.provider_name, event.service_type);
    }
    this.#events.push(event);
    if (event.transition) {
      // Prompt, but never on the caller's stack: the next turn of the event loop.
      this.#prompt.schedule(0);
    }
  }
}
