import CircuitBreaker from 'opossum';

import type { ResolvedBreakerOptions } from './options.js';

/**
 * The opossum breaker behind a provider's breaker. It fires the trampoline below, with the
 * provider's function and that function's arguments as its two arguments.
 * @internal
 */
export type OpossumCircuit = CircuitBreaker<[(...args: never[]) => unknown, unknown[]], unknown>;

/**
 * What a provider's breaker hands to opossum: its error filter, its fallback and the listeners
 * that keep its counters and run its state machine.
 * @internal
 */
export interface OpossumHandlers {
  /** Returns true for an error that must not count against the provider. */
  readonly errorFilter: (error: unknown) => boolean;
  /** Called by opossum for every failure it does not filter; the call resolves with it. */
  readonly fallback: (fn: object, args: unknown[], error: unknown) => Promise<unknown>;
  /** A call succeeded, or failed with a filtered error. */
  readonly success: (result: unknown, latencyMs: number) => void;
  /** A call failed and counts against the provider. */
  readonly failure: () => void;
  /** opossum's timeout fired; the error is the one it rejects the call with. */
  readonly timeout: (error: Error) => void;
}

// One opossum action serves every function called through this breaker: it calls the function
// passed as the first argument, so all calls to one provider and service share one breaker.
// The arguments travel as one array, which spares a rest and a spread per call.
const trampoline = (fn: (...args: unknown[]) => unknown, args: unknown[]) =>
  Promise.resolve(fn(...args));

/**
 * Creates the opossum breaker that runs each call of one provider and service (timeout, error
 * filter, rolling statistics) and wires the handlers in.
 * @internal
 */
export function createOpossumCircuit(
  name: string,
  options: ResolvedBreakerOptions,
  handlers: OpossumHandlers,
): OpossumCircuit {
  const circuit: OpossumCircuit = new CircuitBreaker(trampoline, {
    name,
    timeout: options.timeoutMs,
    // opossum never trips by itself: the provider's breaker decides, in either mode.
    errorThresholdPercentage: 100,
    volumeThreshold: Number.MAX_SAFE_INTEGER,
    resetTimeout: options.resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs,
    // Neither is read; both cost a timer or a sort per breaker.
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
    errorFilter: handlers.errorFilter,
  });
  // opossum calls its fallback for every failure it does not filter, and resolves the call
  // with what the fallback returns: the error is translated there, so that a successful
  // call pays for no extra promise.
  circuit.fallback(handlers.fallback);
  circuit.on('success', handlers.success);
  circuit.on('failure', handlers.failure);
  circuit.on('timeout', handlers.timeout);

  return circuit;
}
