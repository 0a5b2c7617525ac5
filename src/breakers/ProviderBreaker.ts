import CircuitBreaker from 'opossum';

import type { BreakerState } from '../domain/vocabularies.js';
import {
  BreakerOpenError,
  ProviderDisabledError,
  ProviderInMaintenanceError,
  ProviderTimeoutError,
} from '../errors/provider.js';
import type { ResolvedBreakerOptions } from './options.js';
import {
  parseStoredState,
  type BreakerCircuit,
  type BreakerCounters,
  type BreakerSnapshot,
  type BreakerTransition,
  type ProviderAccess,
  type StoredBreakerCircuit,
} from './state.js';

export type {
  BreakerCircuit,
  BreakerCounters,
  BreakerSnapshot,
  BreakerTransition,
  ProviderAccess,
  StoredBreakerCircuit,
} from './state.js';

// One opossum action serves every function called through this breaker: it calls the function
// passed as the first argument, so all calls to one provider and service share one breaker.
// The arguments travel as one array, which spares a rest and a spread per call.
const trampoline = (fn: (...args: unknown[]) => unknown, args: unknown[]) =>
  Promise.resolve(fn(...args));

// setTimeout fires after 1 ms when asked for more than 2^31 - 1 ms; longer waits are chained.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

const isObject = (value: unknown): value is object =>
  (typeof value === 'object' && value !== null) || typeof value === 'function';

/**
 * Told of every state change of a {@link ProviderBreaker}; the registry passes its own. An
 * error it throws is thrown again on its own, after the breaker has finished its work.
 */
export type TransitionListener = (breaker: ProviderBreaker, transition: BreakerTransition) => void;

/**
 * One provider and service's breaker. opossum runs each call (timeout, error filter, rolling
 * statistics); this class owns the state machine, so that an open breaker, a disabled
 * provider and maintenance all refuse calls instead of passing them through, and so that the
 * true open time and next attempt time are known.
 */
export class ProviderBreaker {
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** The options in force, defaults applied. */
  readonly options: ResolvedBreakerOptions;

  readonly #opossum: CircuitBreaker<[(...args: never[]) => unknown, unknown[]], unknown>;
  readonly #onTransition: TransitionListener;
  #circuit: BreakerCircuit = { state: 'closed' };
  #disposed = false;
  #access: ProviderAccess = { kind: 'enabled' };
  #consecutiveFailures = 0;
  #halfOpenTimer: ReturnType<typeof setTimeout> | undefined;
  // opossum's own timeout errors, told apart from a provider's ETIMEDOUT by identity.
  readonly #timeoutErrors = new WeakSet<object>();
  // Errors the error filter let through: they reach the caller, never the fallback.
  readonly #filteredErrors = new WeakSet<object>();
  // Calls since the breaker last closed. Until a rolling window has passed, opossum's window
  // still holds the failures that opened the breaker, so percentage mode counts these instead.
  #sinceClose = { at: Date.now(), fires: 0, failures: 0 };
  readonly #counters: BreakerCounters = {
    fires: 0,
    successes: 0,
    failures: 0,
    timeouts: 0,
    rejects: 0,
    latencyTotalMs: 0,
  };

  constructor(
    provider: string,
    service: string,
    options: ResolvedBreakerOptions,
    onTransition: TransitionListener,
  ) {
    this.provider = provider;
    this.service = service;
    this.options = options;
    this.#onTransition = onTransition;
    this.#opossum = new CircuitBreaker(trampoline, {
      name: `${provider}/${service}`,
      timeout: options.timeoutMs,
      // opossum never trips by itself: this class decides, in either mode.
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.rollingWindowMs,
      // Neither is read; both cost a timer or a sort per breaker.
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
      errorFilter: this.#filter,
    });
    // opossum calls its fallback for every failure it does not filter, and resolves the call
    // with what the fallback returns: the error is translated there, so that a successful
    // call pays for no extra promise.
    this.#opossum.fallback((_fn: unknown, args: unknown[], error: unknown) =>
      this.#fail(error, args),
    );
    this.#opossum.on('success', this.#recordSuccess);
    this.#opossum.on('failure', this.#recordFailure);
    this.#opossum.on('timeout', this.#recordTimeout);
  }

  /** The breaker's state name. */
  get state(): BreakerState {
    return this.#circuit.state;
  }

  /** The breaker's full state. */
  get circuit(): BreakerCircuit {
    return this.#circuit;
  }

  /** Whether operators let calls through. */
  get access(): ProviderAccess {
    return this.#access;
  }

  /**
   * Calls the provider through the breaker. Refused calls reject with a typed error, or
   * resolve with the fallback's answer when there is one.
   */
  fire(fn: (...args: never[]) => unknown, args: unknown[]): Promise<unknown> {
    this.#counters.fires += 1;
    if (this.#access.kind !== 'enabled') {
      return this.#refuse(this.#accessError(), args);
    }

    const circuit = this.#circuit;
    if (circuit.state === 'closed') {
      return this.#call(fn, args);
    }

    if (circuit.state === 'open' && Date.now() < circuit.nextAttemptAt.getTime()) {
      return this.#refuse(new BreakerOpenError(this.#context(), circuit.nextAttemptAt), args);
    }
    if (circuit.state === 'open') {
      this.#halfOpen();
    }

    return this.#trial(fn, args);
  }

  /** Sets whether operators let calls through. Not a state transition of the breaker. */
  setAccess(access: ProviderAccess): void {
    this.#access = access;
  }

  /** Opens the breaker now, as a failure burst would. */
  open(now: Date = new Date()): void {
    if (this.#circuit.state === 'open') {
      return;
    }

    this.#openUntil(now, new Date(now.getTime() + this.options.resetTimeoutMs), false);
  }

  /**
   * Opens the breaker because another instance's breaker for the same provider opened, until
   * that breaker's next attempt. A breaker already open stays as it is.
   */
  openShared(openedAt: Date, nextAttemptAt: Date): void {
    if (this.#circuit.state === 'open' || nextAttemptAt.getTime() <= Date.now()) {
      return;
    }

    this.#openUntil(openedAt, nextAttemptAt, true);
  }

  /** Closes the breaker and clears its failure count, as an operator's reset does. */
  reset(): void {
    this.#consecutiveFailures = 0;
    if (this.#circuit.state !== 'closed') {
      this.#close('reset');
    }
  }

  /**
   * Puts the breaker back in a stored state without reporting a transition. An open breaker
   * stays open until `nextAttemptAt`, however long the process was down. Accepts what
   * {@link ProviderBreaker.toJSON} returned, also after a trip through `JSON.stringify()`.
   * @throws {@link ValidationError} when the stored state is malformed.
   */
  restore(circuit: StoredBreakerCircuit, consecutiveFailures: number): void {
    const stored = parseStoredState(circuit, consecutiveFailures);
    this.#clearTimer();
    this.#consecutiveFailures = stored.consecutiveFailures;
    this.#circuit = stored.circuit;
    if (stored.circuit.state === 'open') {
      this.#scheduleHalfOpen(stored.circuit.nextAttemptAt);
    }
  }

  /** A copy of what the breaker knows about itself. */
  snapshot(): BreakerSnapshot {
    return {
      provider: this.provider,
      service: this.service,
      circuit: this.#circuit,
      access: this.#access,
      consecutiveFailures: this.#consecutiveFailures,
      counters: { ...this.#counters },
    };
  }

  /** The breaker's state as plain JSON, for {@link ProviderBreaker.restore}. */
  toJSON(): {
    /** The breaker's full state. */
    circuit: BreakerCircuit;
    /** Consecutive failures counted toward the threshold. */
    consecutiveFailures: number;
  } {
    return { circuit: this.#circuit, consecutiveFailures: this.#consecutiveFailures };
  }

  /** True once {@link ProviderBreaker.dispose} has run. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Stops the breaker's timers and removes its listeners. */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
    this.#opossum.shutdown();
  }

  #call(fn: (...args: never[]) => unknown, args: unknown[]): Promise<unknown> {
    this.#sinceClose.fires += 1;

    return this.#opossum.fire(fn, args);
  }

  #trial(fn: (...args: never[]) => unknown, args: unknown[]): Promise<unknown> {
    const circuit = this.#circuit as Extract<BreakerCircuit, { state: 'half_open' }>;
    if (circuit.trialsInFlight >= this.options.halfOpenMaxCalls) {
      return this.#refuse(new BreakerOpenError(this.#context()), args);
    }

    this.#circuit = { state: 'half_open', trialsInFlight: circuit.trialsInFlight + 1 };
    const endTrial = () => {
      if (this.#circuit.state === 'half_open') {
        const inFlight = Math.max(0, this.#circuit.trialsInFlight - 1);
        this.#circuit = { state: 'half_open', trialsInFlight: inFlight };
      }
    };

    return this.#call(fn, args).then(
      (result) => {
        endTrial();

        return result;
      },
      (error: unknown) => {
        endTrial();

        throw error;
      },
    );
  }

  readonly #filter = (error: unknown): boolean => {
    const filtered = this.options.errorFilter?.(error) === true;
    if (filtered && isObject(error)) {
      this.#filteredErrors.add(error);
    }

    return filtered;
  };

  readonly #recordSuccess = (result: unknown, latencyMs: number): void => {
    this.#counters.successes += 1;
    this.#counters.latencyTotalMs += latencyMs;
    // opossum reports a filtered error (a card decline) as a success: the provider answered,
    // but that is no evidence that it recovered, so the failures in a row stand.
    if (isObject(result) && this.#filteredErrors.has(result)) {
      return;
    }
    this.#consecutiveFailures = 0;
    if (this.#circuit.state === 'half_open') {
      this.#close('trial_succeeded');
    }
  };

  readonly #recordFailure = (): void => {
    this.#counters.failures += 1;
    this.#consecutiveFailures += 1;
    this.#sinceClose.failures += 1;
    if (this.#circuit.state === 'half_open') {
      this.open();

      return;
    }
    if (this.#circuit.state === 'closed' && this.#shouldTrip()) {
      this.open();
    }
  };

  readonly #recordTimeout = (error: Error): void => {
    this.#counters.timeouts += 1;
    this.#timeoutErrors.add(error);
  };

  #shouldTrip(): boolean {
    if (this.options.mode === 'count') {
      return this.#consecutiveFailures >= this.options.failureThreshold;
    }

    const windowIsFresh = Date.now() - this.#sinceClose.at < this.options.rollingWindowMs;
    const { fires, failures } = windowIsFresh ? this.#sinceClose : this.#opossum.stats;
    if (fires < this.options.volumeThreshold || fires === 0) {
      return false;
    }

    return (failures / fires) * 100 >= this.options.errorThresholdPercentage;
  }

  #openUntil(openedAt: Date, nextAttemptAt: Date, shared: boolean): void {
    this.#circuit = { state: 'open', openedAt, nextAttemptAt };
    this.#scheduleHalfOpen(nextAttemptAt);
    this.#notify({ to: 'open', openedAt, nextAttemptAt, shared });
  }

  #halfOpen(): void {
    this.#clearTimer();
    this.#circuit = { state: 'half_open', trialsInFlight: 0 };
    this.#notify({ to: 'half_open' });
  }

  #close(reason: 'trial_succeeded' | 'reset'): void {
    this.#clearTimer();
    this.#circuit = { state: 'closed' };
    this.#sinceClose = { at: Date.now(), fires: 0, failures: 0 };
    this.#notify({ to: 'closed', reason });
  }

  // Transitions happen inside opossum's promise callbacks. A listener that throws there would
  // leave the caller's promise pending and reject another one that nobody handles, so the
  // listener's error is thrown again on its own, after the breaker has finished its work.
  #notify(transition: BreakerTransition): void {
    try {
      this.#onTransition(this, transition);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #scheduleHalfOpen(at: Date): void {
    this.#clearTimer();
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at.getTime() - Date.now()));
    this.#halfOpenTimer = setTimeout(() => {
      this.#halfOpenTimer = undefined;
      const circuit = this.#circuit;
      if (circuit.state === 'open' && Date.now() < circuit.nextAttemptAt.getTime()) {
        this.#scheduleHalfOpen(circuit.nextAttemptAt);
      } else if (circuit.state === 'open') {
        this.#halfOpen();
      }
    }, delay);
    this.#halfOpenTimer.unref?.();
  }

  #clearTimer(): void {
    if (this.#halfOpenTimer) {
      clearTimeout(this.#halfOpenTimer);
      this.#halfOpenTimer = undefined;
    }
  }

  #context() {
    return { provider: this.provider, service: this.service, state: this.#circuit.state };
  }

  #accessError(): Error {
    return this.#access.kind === 'maintenance'
      ? new ProviderInMaintenanceError(this.#context(), this.#access.until)
      : new ProviderDisabledError(this.#context());
  }

  #refuse(error: Error, args: unknown[]): Promise<unknown> {
    this.#counters.rejects += 1;

    return this.#fallbackOr(error, args);
  }

  // A filtered error is the provider's answer, such as a card decline: the caller gets it
  // as it is, never the fallback's answer.
  #fail(error: unknown, args: unknown[]): Promise<unknown> {
    const filtered = isObject(error)
      ? this.#filteredErrors.has(error)
      : this.options.errorFilter?.(error) === true;
    if (filtered) {
      return Promise.reject(error);
    }

    return this.#fallbackOr(this.#translate(error), args);
  }

  #fallbackOr(error: unknown, args: unknown[]): Promise<unknown> {
    const fallback = this.options.fallback;
    if (!fallback) {
      return Promise.reject(error);
    }

    try {
      return Promise.resolve(fallback(error, ...args));
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  // opossum's timeout error carries code ETIMEDOUT, as a provider's socket error may; the one
  // seen by the 'timeout' listener is opossum's. The message text is never parsed.
  #translate(error: unknown): unknown {
    const ours =
      isObject(error) &&
      (error as { code?: unknown }).code === 'ETIMEDOUT' &&
      this.#timeoutErrors.has(error);
    if (!ours || this.options.timeoutMs === false) {
      return error;
    }

    return new ProviderTimeoutError(this.#context(), this.options.timeoutMs, error);
  }
}
