import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry, RegistryEvents } from '../breakers/CircuitBreakerRegistry.js';
import type { BreakerCounters, BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import type { MonitorEvents } from '../health/ProviderHealthMonitor.js';
import { asError, withDeadline } from '../store/deadline.js';
import type { M28Store } from '../store/M28Store.js';
import { timerOption, type Listenable } from './options.js';

/** Events of {@link OperationalMetricsWriter}. */
export interface OperationalMetricsEvents {
  /** An interval's rows were written, rotation compliance included when it was due. */
  'metrics:written': (event: { rows: number }) => void;
  /** A write failed; its rows are kept, within the bound, and sent with the next one. */
  error: (error: Error) => void;
}

/** Options of {@link OperationalMetricsWriter}. */
export interface OperationalMetricsWriterOptions {
  /** Where rows are written, as `m28_system`. */
  readonly store: M28Store;
  /** The breakers measured. */
  readonly registry: Listenable<RegistryEvents> & Pick<CircuitBreakerRegistry, 'list'>;
  /** Told of toggles, which change availability between breaker transitions. */
  readonly monitor?: Listenable<MonitorEvents>;
  /**
   * Milliseconds between writes; each row covers one interval.
   * @defaultValue 60000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a write may take before it counts as failed.
   * @defaultValue 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Most rows kept while the database is down; the oldest go first.
   * @defaultValue 10000
   */
  readonly maxBufferedRows?: number;
}

/** One row of `operational_metrics`, before it is written. */
interface MetricRow {
  readonly metric_name: string;
  readonly provider_name: string;
  readonly service_type: string;
  readonly value: number;
  readonly labels: Record<string, unknown>;
  readonly recorded_at: string;
}

/** What one provider did since the last write. */
interface Interval {
  since: number;
  available: boolean;
  unavailableMs: number;
  startedAt: number;
  counters: BreakerCounters;
}

const isAvailable = (b: BreakerSnapshot) =>
  b.access.kind === 'enabled' && b.circuit.state !== 'open';

const BREAKER_EVENTS = ['breaker:open', 'breaker:half_open', 'breaker:close'] as const;

/**
 * Writes `operational_metrics` rows every interval: per provider and service its
 * `availability` (the share of the interval it took calls), `success_rate` and
 * `response_time_ms` of the interval's calls and checks, and `rotation_compliance`, which
 * the database computes once per interval across every instance. One statement per write;
 * nothing on the call path.
 */
export class OperationalMetricsWriter extends EventEmitter<OperationalMetricsEvents> {
  readonly #store: M28Store;
  readonly #registry: OperationalMetricsWriterOptions['registry'];
  readonly #monitor: OperationalMetricsWriterOptions['monitor'];
  readonly #intervalMs: number;
  readonly #storeTimeoutMs: number;
  readonly #maxBufferedRows: number;
  readonly #intervals = new Map<string, Interval>();
  #pending: MetricRow[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #writing: Promise<void> | undefined;

  /** @throws {@link ValidationError} when the interval, timeout or bound is out of range. */
  constructor(options: OperationalMetricsWriterOptions) {
    super();
    this.#store = options.store;
    this.#registry = options.registry;
    this.#monitor = options.monitor;
    this.#intervalMs = timerOption(options.intervalMs, 'intervalMs', 60_000);
    this.#storeTimeoutMs = timerOption(options.storeTimeoutMs, 'storeTimeoutMs', 30_000);
    this.#maxBufferedRows = timerOption(options.maxBufferedRows, 'maxBufferedRows', 10_000);
  }

  /** Starts measuring, and writing every interval. Idempotent. */
  start(): void {
    if (this.#timer) {
      return;
    }

    this.#intervals.clear();
    this.#account(Date.now());
    for (const event of BREAKER_EVENTS) {
      this.#registry.on(event, this.#onChange);
    }
    this.#monitor?.on('provider:toggle', this.#onChange);
    this.#timer = setInterval(() => {
      this.writeNow().catch((error: unknown) => this.emit('error', asError(error)));
    }, this.#intervalMs);
    this.#timer.unref?.();
  }

  /** Stops the timer and waits for a write in flight. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const event of BREAKER_EVENTS) {
      this.#registry.off(event, this.#onChange);
    }
    this.#monitor?.off('provider:toggle', this.#onChange);
    await this.#writing?.catch(() => undefined);
  }

  /**
   * Ends the interval now and writes its rows, with any a failed write kept. A write already
   * in flight is waited for first.
   * @throws the translated database error, or an `M28_STORE_TIMEOUT` error; the rows stay.
   */
  async writeNow(): Promise<void> {
    await this.#writing?.catch(() => undefined);
    this.#pending.push(...this.#measure(Date.now()));
    if (this.#pending.length > this.#maxBufferedRows) {
      this.#pending = this.#pending.slice(-this.#maxBufferedRows);
    }
    this.#writing = this.#write();

    return this.#writing;
  }

  async #write(): Promise<void> {
    const rows = this.#pending;
    this.#pending = [];
    const seconds = this.#intervalMs / 1000;
    try {
      const [result] = await withDeadline(
        this.#store.withRole('m28_system', (tx) =>
          this.#store.query<{ written: number }>(
            sql`select m28.record_operational_metrics(
              ${JSON.stringify(rows)}::jsonb, make_interval(secs => ${seconds})) as written`,
            tx,
          ),
        ),
        this.#storeTimeoutMs,
        'an operational metrics write',
      );
      this.emit('metrics:written', { rows: Number(result?.written ?? rows.length) });
    } catch (error) {
      this.#pending = [...rows, ...this.#pending].slice(-this.#maxBufferedRows);
      throw error;
    }
  }

  // Availability is accounted at every transition, so that a breaker open for 20 s of a
  // 60 s interval reads 0.67, whatever its state at the moment of the write.
  #account(now: number): BreakerSnapshot[] {
    const breakers = this.#registry.list();
    for (const breaker of breakers) {
      const key = `${breaker.provider}/${breaker.service}`;
      const interval = this.#intervals.get(key);
      if (!interval) {
        this.#intervals.set(key, {
          since: now,
          startedAt: now,
          available: isAvailable(breaker),
          unavailableMs: 0,
          counters: { ...breaker.counters },
        });
        continue;
      }

      if (!interval.available) {
        interval.unavailableMs += now - interval.since;
      }
      interval.since = now;
      interval.available = isAvailable(breaker);
    }

    return breakers;
  }

  #measure(now: number): MetricRow[] {
    const rows: MetricRow[] = [];
    const recorded_at = new Date(now).toISOString();
    for (const breaker of this.#account(now)) {
      const key = `${breaker.provider}/${breaker.service}`;
      const interval = this.#intervals.get(key);
      if (!interval || now <= interval.startedAt) {
        continue;
      }

      const row = (metric_name: string, value: number, labels: Record<string, unknown>) =>
        rows.push({
          metric_name,
          provider_name: breaker.provider,
          service_type: breaker.service,
          value,
          labels: { interval_ms: now - interval.startedAt, ...labels },
          recorded_at,
        });
      const elapsed = now - interval.startedAt;
      row('availability', Math.max(0, 1 - interval.unavailableMs / elapsed), {});
      const c = breaker.counters;
      // A disposed breaker comes back with its counters at zero.
      const base = c.fires < interval.counters.fires ? undefined : interval.counters;
      const successes = c.successes - (base?.successes ?? 0);
      const calls = successes + c.failures - (base?.failures ?? 0);
      if (calls > 0) {
        row('success_rate', successes / calls, { calls });
      }
      if (successes > 0) {
        const latency = c.latencyTotalMs - (base?.latencyTotalMs ?? 0);
        row('response_time_ms', Math.round(latency / successes), { calls: successes });
      }
      interval.startedAt = now;
      interval.unavailableMs = 0;
      interval.counters = { ...c };
    }

    return rows;
  }

  readonly #onChange = (): void => {
    this.#account(Date.now());
  };
}
