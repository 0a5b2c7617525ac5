import type { ProviderBreaker } from './ProviderBreaker.js';
import type { BreakerCircuit, BreakerTransition } from './state.js';

/**
 * Told of every state change of a {@link ProviderBreaker}; the registry passes its own. An
 * error it throws is thrown again on its own, after the breaker has finished its work.
 */
export type TransitionListener = (breaker: ProviderBreaker, transition: BreakerTransition) => void;

// setTimeout fires after 1 ms when asked for more than 2^31 - 1 ms; longer waits are chained.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * Tells the listener of a transition. An error the listener throws is thrown again in a
 * microtask of its own.
 * @internal
 */
export function notifyTransition(
  listener: TransitionListener,
  breaker: ProviderBreaker,
  transition: BreakerTransition,
): void {
  // Transitions happen inside opossum's promise callbacks. A listener that throws there would
  // leave the caller's promise pending and reject another one that nobody handles, so the
  // listener's error is thrown again on its own, after the breaker has finished its work.
  try {
    listener(breaker, transition);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Starts an unreferenced timer that calls `onDue` at `at`, or sooner when `at` is more than
 * 2^31 - 1 ms away: `onDue` then finds the breaker still early and starts another.
 * @internal
 */
export function startHalfOpenTimer(at: Date, onDue: () => void): ReturnType<typeof setTimeout> {
  const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at.getTime() - Date.now()));
  const timer = setTimeout(onDue, delay);
  timer.unref?.();

  return timer;
}

/**
 * The state once a trial call has settled: one trial fewer in flight when still half-open,
 * unchanged when the breaker has moved on.
 * @internal
 */
export function afterTrial(circuit: BreakerCircuit): BreakerCircuit {
  return circuit.state === 'half_open'
    ? { state: 'half_open', trialsInFlight: Math.max(0, circuit.trialsInFlight - 1) }
    : circuit;
}
