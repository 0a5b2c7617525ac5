import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type {
  BreakerCounters,
  BreakerSnapshot,
  ProviderBreaker,
} from '../breakers/ProviderBreaker.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';

/** What was last written for one provider, and by which breaker. */
interface Persisted {
  readonly breaker: ProviderBreaker | undefined;
  readonly counters: BreakerCounters;
}

/** What {@link SnapshotRows} needs. @internal */
export interface SnapshotRowsOptions {
  readonly registry: CircuitBreakerRegistry;
  readonly monitor: ProviderHealthMonitor;
  /** Written in each row, as the instance that reports it. */
  readonly instanceId: string;
  /** How often rows are written, which sets how long a report stays fresh. */
  readonly flushIntervalMs: number;
}

// The shortest time an instance's breaker report stays in the health row's worst-of.
const MIN_FRESH_MS = 15_000;

const providerKey = (provider: string, service: string | null): string => `${provider}/${service}`;

/** A changed provider's health row, with the breaker and counters it was built from. @internal */
export type SnapshotRow = ReturnType<SnapshotRows['take']>[number];

/**
 * The health rows the sink writes: which providers changed since their row was last written,
 * and the counters their deltas count from.
 * @internal
 */
export class SnapshotRows {
  readonly #registry: CircuitBreakerRegistry;
  readonly #monitor: ProviderHealthMonitor;
  readonly #instanceId: string;
  readonly #flushIntervalMs: number;
  readonly #persisted = new Map<string, Persisted>();
  readonly #dirty = new Set<string>();

  constructor(options: SnapshotRowsOptions) {
    this.#registry = options.registry;
    this.#monitor = options.monitor;
    this.#instanceId = options.instanceId;
    this.#flushIntervalMs = options.flushIntervalMs;
  }

  /** Has the provider's row written at the next flush, whether its counters moved or not. */
  mark(provider: string, service: string | null): void {
    this.#dirty.add(providerKey(provider, service));
  }

  /** The rows of the providers changed since theirs was last written, which are unmarked. */
  take() {
    const rows = this.#registry
      .list()
      .filter((snapshot) => this.#changed(snapshot))
      .map((snapshot) => this.#row(snapshot));
    // Marks made while this batch is in flight stay, for the next one.
    for (const { key } of rows) {
      this.#dirty.delete(key);
    }

    return rows;
  }

  /** Marks again the providers of rows that were not written. */
  retry(rows: readonly SnapshotRow[]): void {
    for (const { key } of rows) {
      this.#dirty.add(key);
    }
  }

  /** Makes the counters of written rows the baseline of the next deltas. */
  written(rows: readonly SnapshotRow[]): void {
    for (const { key, breaker, counters } of rows) {
      this.#persisted.set(key, { breaker, counters });
    }
  }

  #changed(snapshot: BreakerSnapshot): boolean {
    const key = providerKey(snapshot.provider, snapshot.service);
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
    const last = this.#persisted.get(providerKey(snapshot.provider, snapshot.service));
    const breaker = this.#registry.get(snapshot.provider, snapshot.service);

    return last && last.breaker === breaker ? last.counters : undefined;
  }

  #row(snapshot: BreakerSnapshot) {
    const key = providerKey(snapshot.provider, snapshot.service);
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
}
