import type { BreakerOptions } from '../../src/breakers/options.js';
import { resolveBreakerOptions } from '../../src/breakers/options.js';
import { ProviderBreaker } from '../../src/breakers/ProviderBreaker.js';
import type { BreakerTransition } from '../../src/breakers/state.js';

// Taken before any test installs fake timers, which replace the global one.
const realSetImmediate = globalThis.setImmediate;

/** Waits one real event-loop turn: pending microtasks and rejection tracking have run. */
export async function flushEventLoop(): Promise<void> {
  await new Promise<void>((resolve) => realSetImmediate(resolve));
  await new Promise<void>((resolve) => realSetImmediate(resolve));
}

/** How a promise settled, recorded as soon as it does so that no rejection goes unhandled. */
export type Outcome<T> =
  { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

/** Starts recording how `promise` settles. */
export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/** The reason `promise` rejected with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.status === 'fulfilled') {
    throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  }

  return outcome.reason;
}

/** A promise with its resolve and reject functions. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });

  return { promise, resolve, reject };
}

/** A provider call that always fails with `error`, and how many times it was called. */
export function failingCall(error: unknown = new Error('provider down')) {
  let count = 0;

  return {
    get count() {
      return count;
    },
    fn: async (): Promise<never> => {
      count += 1;
      throw error;
    },
  };
}

/** A breaker for stripe/payment, built directly, that records its transitions. */
export function createBreaker(options: BreakerOptions = {}) {
  const transitions: BreakerTransition[] = [];
  const breaker = new ProviderBreaker('stripe', 'payment', resolveBreakerOptions(options), (_, t) =>
    transitions.push(t),
  );

  return { breaker, transitions };
}

/** Runs `fn` through `breaker` `times` times, one after the other, and ignores the outcome. */
export async function fireTimes(
  breaker: ProviderBreaker,
  fn: () => unknown,
  times: number,
): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    await settle(breaker.fire(fn, []));
  }
}
