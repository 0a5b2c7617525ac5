import type { BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import { CallWindow } from '../health/CallWindow.js';
import type { DueSecret } from '../rotation/RotationScheduler.js';
import type { AlertRule, ResolvedAlertRules } from './alertRules.js';

/** What one rule measured about one provider or secret. @internal */
export type Measurement =
  | {
      readonly rule: Exclude<AlertRule, 'overdue_rotations'>;
      readonly provider: string;
      readonly service: string;
      readonly value: number;
    }
  | {
      readonly rule: 'overdue_rotations';
      readonly scope: string;
      readonly keyName: string;
      readonly value: number;
    };

interface Occurrences {
  readonly provider: string;
  readonly service: string;
  at: number[];
}

interface Late {
  readonly scope: string;
  readonly keyName: string;
  readonly lateMs: number;
  readonly seenAt: number;
}

// A flapping provider must not grow the evidence without bound between evaluations.
const MAX_OCCURRENCES = 1000;

const keyOf = (a: string, b: string) => `${a}/${b}`;

/**
 * The evidence the alert rules are evaluated on, gathered from events: failed checks and
 * breaker trips with their times, secrets past due as the last scan saw them, and a window of
 * each provider's call latencies. In memory only; nothing here does I/O.
 * @internal
 */
export class AlertSignals {
  readonly #rules: ResolvedAlertRules;
  readonly #failedChecks = new Map<string, Occurrences>();
  readonly #trips = new Map<string, Occurrences>();
  readonly #latency = new Map<string, CallWindow>();
  #late = new Map<string, Late>();
  #scanning = new Map<string, Late>();

  constructor(rules: ResolvedAlertRules) {
    this.#rules = rules;
  }

  /** A health check was made and failed. */
  checkFailed(provider: string, service: string, now: number): void {
    this.#occur(this.#failedChecks, provider, service, now);
  }

  /** A breaker opened. */
  tripped(provider: string, service: string, now: number): void {
    this.#occur(this.#trips, provider, service, now);
  }

  /** An operator reset the breaker after fixing the issue: the evidence against it goes. */
  reset(provider: string, service: string): void {
    this.#failedChecks.delete(keyOf(provider, service));
    this.#trips.delete(keyOf(provider, service));
  }

  /** The scan in progress found a secret past its rotation date. */
  due(secret: DueSecret & { lateMs: number }, now: number): void {
    const { scope, keyName, lateMs } = secret;
    this.#scanning.set(keyOf(scope, keyName), { scope, keyName, lateMs, seenAt: now });
  }

  /** A scan ended: the secrets it found are the ones past due now. */
  scanned(): void {
    this.#late = this.#scanning;
    this.#scanning = new Map();
  }

  /** A secret was rotated: it is not late any more, whatever the last scan said. */
  rotated(scope: string, keyName: string): void {
    this.#late.delete(keyOf(scope, keyName));
    this.#scanning.delete(keyOf(scope, keyName));
  }

  /** Starts each provider's latency window from its counters now, not from its history. */
  prime(breakers: readonly BreakerSnapshot[]): void {
    for (const breaker of breakers) {
      this.#window(breaker).clear(breaker.counters);
    }
  }

  /** Every rule's measurements now; what aged out of a window is dropped first. */
  measure(now: number, breakers: readonly BreakerSnapshot[]): Measurement[] {
    const out: Measurement[] = [];
    const counts = [
      ['health_check_failures', this.#failedChecks],
      ['circuit_breaker_trips', this.#trips],
    ] as const;
    for (const [rule, occurrences] of counts) {
      const since = now - this.#rules[rule].windowMs;
      for (const [key, entry] of occurrences) {
        entry.at = entry.at.filter((at) => at > since);
        if (entry.at.length === 0) {
          occurrences.delete(key);
        } else {
          out.push({
            rule,
            provider: entry.provider,
            service: entry.service,
            value: entry.at.length,
          });
        }
      }
    }
    out.push(...this.#responseTimes(now, breakers));
    for (const late of this.#late.values()) {
      // Lateness grows between scans: a secret crosses seven days without waiting for one.
      const value = late.lateMs + Math.max(0, now - late.seenAt);
      out.push({ rule: 'overdue_rotations', scope: late.scope, keyName: late.keyName, value });
    }

    return out;
  }

  #responseTimes(now: number, breakers: readonly BreakerSnapshot[]): Measurement[] {
    const out: Measurement[] = [];
    const seen = new Set<string>();
    for (const breaker of breakers) {
      const { provider, service } = breaker;
      const key = keyOf(provider, service);
      seen.add(key);
      if (!this.#latency.has(key)) {
        this.#window(breaker).clear(breaker.counters);
        continue;
      }

      const { responseTimeMs } = this.#window(breaker).observe(breaker.counters, now);
      if (responseTimeMs !== null) {
        out.push({ rule: 'response_time', provider, service, value: responseTimeMs });
      }
    }
    for (const key of this.#latency.keys()) {
      if (!seen.has(key)) {
        this.#latency.delete(key);
      }
    }

    return out;
  }

  #occur(map: Map<string, Occurrences>, provider: string, service: string, now: number): void {
    const key = keyOf(provider, service);
    const entry = map.get(key) ?? { provider, service, at: [] };
    entry.at.push(now);
    if (entry.at.length > MAX_OCCURRENCES) {
      entry.at.shift();
    }
    map.set(key, entry);
  }

  #window(breaker: BreakerSnapshot): CallWindow {
    const key = keyOf(breaker.provider, breaker.service);
    let window = this.#latency.get(key);
    if (!window) {
      window = new CallWindow(this.#rules.response_time.windowMs);
      this.#latency.set(key, window);
    }

    return window;
  }
}
