import { z } from 'zod';

import { ValidationError } from '../errors/ValidationError.js';
import { toFieldIssues } from './options.js';

/** A breaker's state as a discriminated union over the spec's three states. */
export type BreakerCircuit =
  | {
      /** Calls go through to the provider. */
      readonly state: 'closed';
    }
  | {
      /** Calls are refused until `nextAttemptAt`. */
      readonly state: 'open';
      /** When the breaker opened. */
      readonly openedAt: Date;
      /** When it lets the next trial call through. */
      readonly nextAttemptAt: Date;
    }
  | {
      /** Trial calls go through, up to `halfOpenMaxCalls` at once. */
      readonly state: 'half_open';
      /** Trial calls running now. */
      readonly trialsInFlight: number;
    };

/**
 * A {@link BreakerCircuit} as it comes back from storage or from `JSON.parse()`: dates may be
 * ISO strings or epoch milliseconds, and a half-open state needs no trial count.
 */
export type StoredBreakerCircuit =
  | {
      /** The breaker was closed. */
      readonly state: 'closed';
    }
  | {
      /** The breaker was open. */
      readonly state: 'open';
      /** When it opened: a `Date`, an ISO string or epoch milliseconds. */
      readonly openedAt: Date | string | number;
      /** When it lets the next trial call through, in the same forms. */
      readonly nextAttemptAt: Date | string | number;
    }
  | {
      /** The breaker was half-open. */
      readonly state: 'half_open';
      /** Ignored: a restored half-open breaker has no trial in flight. */
      readonly trialsInFlight?: number;
    };

/** Whether operators let calls through. `blocked` calls never reach the provider. */
export type ProviderAccess =
  | {
      /** Calls may reach the provider. */
      readonly kind: 'enabled';
    }
  | {
      /** An operator disabled the provider: calls are blocked. */
      readonly kind: 'disabled';
    }
  | {
      /** The provider is in maintenance: calls are blocked. */
      readonly kind: 'maintenance';
      /** When maintenance ends by itself, if it has an expiry. */
      readonly until: Date | undefined;
    };

/** Cumulative call counters of one breaker since it was created. */
export interface BreakerCounters {
  /** Calls made through the breaker, refused ones included. */
  fires: number;
  /** Calls the provider answered, filtered errors included. */
  successes: number;
  /** Calls that failed and counted against the provider, timeouts included. */
  failures: number;
  /** Of the failures, the calls that timed out. */
  timeouts: number;
  /** Calls refused without reaching the provider: open, disabled or in maintenance. */
  rejects: number;
  /** Sum of successful calls' latencies, in milliseconds. */
  latencyTotalMs: number;
}

/** What a breaker knows about itself, for the monitor, the store and `toJSON()`. */
export interface BreakerSnapshot {
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** The breaker's state. */
  readonly circuit: BreakerCircuit;
  /** Whether operators let calls through. */
  readonly access: ProviderAccess;
  /** Consecutive failures counted toward the threshold. */
  readonly consecutiveFailures: number;
  /** Cumulative counters: once calls settle, `fires` is `successes + failures + rejects`. */
  readonly counters: Readonly<BreakerCounters>;
}

/** A state change reported by a breaker. */
export type BreakerTransition =
  | {
      /** The breaker opened: calls fail fast until `nextAttemptAt`. */
      readonly to: 'open';
      /** When the breaker opened. */
      readonly openedAt: Date;
      /** When it lets the next trial call through. */
      readonly nextAttemptAt: Date;
      /** True when another instance's trip opened it (the `sharedTrip` option). */
      readonly shared: boolean;
    }
  | {
      /** The reset timeout passed: trial calls may go through. */
      readonly to: 'half_open';
    }
  | {
      /** The breaker closed. */
      readonly to: 'closed';
      /** A trial call succeeded, or an operator reset the breaker. */
      readonly reason: 'trial_succeeded' | 'reset';
    };

const storedDate = z.union([z.date(), z.string(), z.number()]).pipe(z.coerce.date());

const storedSchema = z.object({
  circuit: z.discriminatedUnion('state', [
    z.object({ state: z.literal('closed') }),
    z.object({ state: z.literal('open'), openedAt: storedDate, nextAttemptAt: storedDate }),
    z.object({ state: z.literal('half_open') }),
  ]),
  consecutiveFailures: z.number().int().min(0),
});

/**
 * Checks a stored state and turns its dates back into `Date`s. A half-open state restarts
 * with no trial in flight: the trials of the process that saved it are gone.
 * @throws {@link ValidationError} naming the field, the rule and the value received.
 * @internal
 */
export function parseStoredState(
  circuit: StoredBreakerCircuit,
  consecutiveFailures: number,
): { circuit: BreakerCircuit; consecutiveFailures: number } {
  const input = { circuit, consecutiveFailures };
  const parsed = storedSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(toFieldIssues(parsed.error, input));
  }

  const stored = parsed.data.circuit;
  const restored: BreakerCircuit =
    stored.state === 'half_open' ? { state: 'half_open', trialsInFlight: 0 } : stored;

  return { circuit: restored, consecutiveFailures: parsed.data.consecutiveFailures };
}
