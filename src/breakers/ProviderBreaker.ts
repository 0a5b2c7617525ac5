import type { BreakerState } from '../domain/vocabularies.js';
import { BreakerOpenError } from '../errors/provider.js';
import { newCounters, opensOnFailure, sinceCloseNow } from './callCounts.js';
import { isObject, markFiltered, settleFailure } from './failures.js';
import { createOpossumCircuit, type OpossumCircuit } from './opossumCircuit.js';
import type { ResolvedBreakerOptions } from './options.js';
import { accessError, contextOf, fallbackOr, WrapperFallbacks } from './refusals.js';
import { snapshotOf } from './snapshot.js';
import {
  parseStoredState,
  type BreakerCircuit,
  type BreakerSnapshot,
  type ProviderAccess,
  type StoredBreakerCircuit,
} from './state.js';
import { afterTrial, notifyTransition, startHalfOpenTimer } from './transitions.js';
import type { TransitionListener } from './transitions.js';

export type {
  BreakerCircuit,
  BreakerCounters,
  BreakerSnapshot,
  BreakerTransition,
  ProviderAccess,
  StoredBreakerCircuit,
} from './state.js';
export type { TransitionListener } from './transitions.js';

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

  readonly #opossum: OpossumCircuit;
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
  readonly #fallbacks = new WrapperFallbacks();
  // Calls since the breaker last closed, for percentage mode: see SinceClose.
  #sinceClose = sinceCloseNow();
  readonly #counters = newCounters();

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
    this.#opossum = createOpossumCircuit(`${provider}/${service}`, options, {
      errorFilter: (error: unknown) =>
        markFiltered(error, this.options.errorFilter, this.#filteredErrors),
      fallback: (fn: object, args: unknown[], error: unknown) =>
        settleFailure(this, error, args, this.#fallbacks.of(fn, this.options.fallback), {
          filtered: this.#filteredErrors,
          timeouts: this.#timeoutErrors,
        }),
      success: this.#recordSuccess,
      failure: this.#recordFailure,
      timeout: this.#recordTimeout,
    });
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
      return this.#refuse(accessError(this, this.#access), fn, args);
    }

    const circuit = this.#circuit;
    if (circuit.state === 'closed') {
      return this.#call(fn, args);
    }

    if (circuit.state === 'open' && Date.now() < circuit.nextAttemptAt.getTime()) {
      return this.#refuse(new BreakerOpenError(contextOf(this), circuit.nextAttemptAt), fn, args);
    }
    if (circuit.state === 'open') {
      this.#halfOpen();
    }

    return this.#trial(fn, args);
  }

  /**
   * Answers the failed and refused calls of `fn` with `fallback`, not the breaker's own: how
   * `wrap()` gives each wrapper its fallback.
   */
  fallBackFor(fn: object, fallback: (error: unknown, ...args: unknown[]) => unknown): void {
    this.#fallbacks.set(fn, fallback);
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
    return snapshotOf(this, this.#consecutiveFailures, this.#counters);
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
      return this.#refuse(new BreakerOpenError(contextOf(this)), fn, args);
    }

    this.#circuit = { state: 'half_open', trialsInFlight: circuit.trialsInFlight + 1 };
    const endTrial = () => {
      this.#circuit = afterTrial(this.#circuit);
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
    if (opensOnFailure(this, this.#consecutiveFailures, this.#sinceClose, this.#opossum)) {
      this.open();
    }
  };

  readonly #recordTimeout = (error: Error): void => {
    this.#counters.timeouts += 1;
    this.#timeoutErrors.add(error);
  };

  #openUntil(openedAt: Date, nextAttemptAt: Date, shared: boolean): void {
    this.#circuit = { state: 'open', openedAt, nextAttemptAt };
    this.#scheduleHalfOpen(nextAttemptAt);
    notifyTransition(this.#onTransition, this, { to: 'open', openedAt, nextAttemptAt, shared });
  }

  #halfOpen(): void {
    this.#clearTimer();
    this.#circuit = { state: 'half_open', trialsInFlight: 0 };
    notifyTransition(this.#onTransition, this, { to: 'half_open' });
  }

  #close(reason: 'trial_succeeded' | 'reset'): void {
    this.#clearTimer();
    this.#circuit = { state: 'closed' };
    this.#sinceClose = sinceCloseNow();
    notifyTransition(this.#onTransition, this, { to: 'closed', reason });
  }

  #scheduleHalfOpen(at: Date): void {
    this.#clearTimer();
    this.#halfOpenTimer = startHalfOpenTimer(at, () => {
      this.#halfOpenTimer = undefined;
      const circuit = this.#circuit;
      if (circuit.state === 'open' && Date.now() < circuit.nextAttemptAt.getTime()) {
        this.#scheduleHalfOpen(circuit.nextAttemptAt);
      } else if (circuit.state === 'open') {
        this.#halfOpen();
      }
    });
  }

  #clearTimer(): void {
    if (this.#halfOpenTimer) {
      clearTimeout(this.#halfOpenTimer);
      this.#halfOpenTimer = undefined;
    }
  }

  #refuse(error: Error, fn: object, args: unknown[]): Promise<unknown> {
    this.#counters.rejects += 1;

    return fallbackOr(this.#fallbacks.of(fn, this.options.fallback), error, args);
  }
}
