import { z } from 'zod';

import { ValidationError } from '../errors/ValidationError.js';
import { toFieldIssues } from './options.js';

/** A breaker's state as a discriminated union over the spec's three states. */
export type BreakerCircuit =
  | { readonly state: 'closed' }
  | { readonly state: 'open'; readonly openedAt: Date; readonly nextAttemptAt: Date }
  | { readonly state: 'half_open'; readonly trialsInFlight: number };

/**
 * A {@link BreakerCircuit} as it comes back from storage or from `JSON.parse()`: dates may be
 * ISO strings or epoch milliseconds, and a half-open state needs no trial count.
 */
export type StoredBreakerCircuit =
  | { readonly state: 'closed' }
  | {
      readonly state: 'open';
      readonly openedAt: Date | string | number;
      readonly nextAttemptAt: Date | string | number;
    }
  | { readonly state: 'half_open'; readonly trialsInFlight?: number };

/** Whether operators let calls through. `blocked` calls never reach the provider. */
export type ProviderAccess =
  | { readonly kind: 'enabled' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'maintenance'; readonly until: Date | undefined };

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
      readonly to: 'open';
      readonly openedAt: Date;
      readonly nextAttemptAt: Date;
      /** True when another instance's trip opened it (the `sharedTrip` option). */
      readonly shared: boolean;
    }
  | { readonly to: 'half_open' }
  | { readonly to: 'closed'; readonly reason: 'trial_succeeded' | 'reset' };

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
