import type { BreakerCounters } from '../breakers/ProviderBreaker.js';

/** Calls of one time slice of the window. */
interface Bucket {
  readonly start: number;
  successes: number;
  failures: number;
  latencyTotalMs: number;
}

/** What the window holds now. */
export interface CallWindowTotals {
  /** Calls that succeeded or failed within the window. */
  readonly calls: number;
  /** Successes over calls, or null without calls. */
  readonly successRate: number | null;
  /** Average latency of the window's successes, or null without one. */
  readonly responseTimeMs: number | null;
}

const BUCKETS = 10;

/**
 * The success rate and latency of one breaker's recent calls: the counter deltas seen at
 * each evaluation, kept in ten time slices over `windowMs`. One evaluation after a single
 * call never makes the rate of that call alone.
 * @internal
 */
export class CallWindow {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  #buckets: Bucket[] = [];
  #baseline: BreakerCounters | undefined;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.#bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS));
  }

  /** Adds the calls made since the last observation, and drops the slices that aged out. */
  observe(counters: Readonly<BreakerCounters>, now: number): CallWindowTotals {
    const base = this.#baseline;
    // A disposed breaker comes back with its counters at zero.
    const restarted = base !== undefined && counters.fires < base.fires;
    const from = base && !restarted ? base : undefined;
    const successes = counters.successes - (from?.successes ?? 0);
    const failures = counters.failures - (from?.failures ?? 0);
    const latency = counters.latencyTotalMs - (from?.latencyTotalMs ?? 0);
    this.#baseline = { ...counters };
    if (successes + failures > 0) {
      this.#add(now, successes, failures, latency);
    }
    this.#buckets = this.#buckets.filter((b) => b.start + this.#bucketMs > now - this.#windowMs);

    return this.totals();
  }

  /** Forgets every call so far: what an operator's breaker reset asks for. */
  clear(counters: Readonly<BreakerCounters> | undefined): void {
    this.#buckets = [];
    this.#baseline = counters ? { ...counters } : undefined;
  }

  /** The window's calls, success rate and average latency. */
  totals(): CallWindowTotals {
    let successes = 0;
    let failures = 0;
    let latency = 0;
    for (const bucket of this.#buckets) {
      successes += bucket.successes;
      failures += bucket.failures;
      latency += bucket.latencyTotalMs;
    }
    const calls = successes + failures;

    return {
      calls,
      successRate: calls > 0 ? successes / calls : null,
      responseTimeMs: successes > 0 ? Math.round(latency / successes) : null,
    };
  }

  #add(now: number, successes: number, failures: number, latency: number): void {
    const start = now - (now % this.#bucketMs);
    let bucket = this.#buckets.at(-1);
    if (!bucket || bucket.start !== start) {
      bucket = { start, successes: 0, failures: 0, latencyTotalMs: 0 };
      this.#buckets.push(bucket);
    }
    bucket.successes += successes;
    bucket.failures += failures;
    bucket.latencyTotalMs += latency;
  }
}
