import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';

/**
 * Listens to a registry's breaker transitions, and re-derives statuses after them.
 * @internal
 */
export class BreakerWatch {
  readonly #registry: CircuitBreakerRegistry;
  readonly #evaluate: () => void;
  #evaluationQueued = false;
  #listening = false;

  /** Calls `evaluate` after the transitions; call {@link BreakerWatch.listen} to start. */
  constructor(registry: CircuitBreakerRegistry, evaluate: () => void) {
    this.#registry = registry;
    this.#evaluate = evaluate;
  }

  /** Starts or stops listening. Idempotent. */
  listen(on: boolean): void {
    if (this.#listening === on) {
      return;
    }

    this.#listening = on;
    const method = on ? 'on' : 'off';
    this.#registry[method]('breaker:open', this.#onBreakerChange);
    this.#registry[method]('breaker:half_open', this.#onBreakerChange);
    this.#registry[method]('breaker:close', this.#onBreakerChange);
  }

  // Deferred to a microtask, so that a breaker's own event reaches every listener before the
  // status change it causes, and a burst of transitions is evaluated once.
  readonly #onBreakerChange = (): void => {
    if (this.#evaluationQueued) {
      return;
    }

    this.#evaluationQueued = true;
    queueMicrotask(() => {
      this.#evaluationQueued = false;
      this.#evaluate();
    });
  };
}
