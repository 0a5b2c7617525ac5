import { EventEmitter } from 'eventemitter3';

import { ValidationError } from '../errors/ValidationError.js';
import { resolveBreakerOptions, type BreakerOptions, type WrapOptions } from './options.js';
import { ProviderBreaker } from './ProviderBreaker.js';
import type { Fallback } from './refusals.js';
import type {
  BreakerSnapshot,
  BreakerTransition,
  ProviderAccess,
  StoredBreakerCircuit,
} from './state.js';

/** Names a breaker: one per provider and service type. */
export interface BreakerKey {
  /** Provider name, such as `stripe`. */
  readonly provider: string;
  /** Service type, such as `payment`. */
  readonly service: string;
}

/** Payload of `breaker:open`. */
export interface BreakerOpenEvent extends BreakerKey {
  /** When the breaker opened. */
  readonly openedAt: Date;
  /** When it lets the next trial call through. */
  readonly nextAttemptAt: Date;
  /** Consecutive failures when it opened. */
  readonly failures: number;
  /** True when another instance's trip opened it (the `sharedTrip` option). */
  readonly shared?: boolean;
}

/** Payload of `breaker:close`. */
export interface BreakerCloseEvent extends BreakerKey {
  /** A trial call succeeded, or an operator reset the breaker. */
  readonly reason: 'trial_succeeded' | 'reset';
}

/** Events of {@link CircuitBreakerRegistry}. */
export interface RegistryEvents {
  /** A breaker opened: calls fail fast until `nextAttemptAt`. */
  'breaker:open': (event: BreakerOpenEvent) => void;
  /** A breaker's reset timeout passed: trial calls may go through. */
  'breaker:half_open': (event: BreakerKey) => void;
  /** A breaker closed. */
  'breaker:close': (event: BreakerCloseEvent) => void;
}

/** Options of {@link CircuitBreakerRegistry}. */
export interface CircuitBreakerRegistryOptions {
  /** Options every breaker starts from. The spec's defaults fill what is left out. */
  readonly defaults?: BreakerOptions;
  /**
   * Overrides per provider (`'stripe'`) or per provider and service (`'stripe/payment'`); the
   * more specific key wins, field by field.
   */
  readonly providers?: Readonly<Record<string, BreakerOptions>>;
}

const keyOf = (provider: string, service: string) => `${provider}/${service}`;

const NAME_RULE = 'must be a non-blank string of at most 100 characters, without "/"';

// "/" joins provider and service in keys: a name holding one could reach another's breaker.
function isName(value: unknown): value is string {
  return (
    typeof value === 'string' && value.trim() !== '' && value.length <= 100 && !value.includes('/')
  );
}

function requireName(value: unknown, field: string): void {
  if (!isName(value)) {
    throw new ValidationError([{ field, rule: NAME_RULE, received: value }]);
  }
}

function requireOverrideKey(key: string): void {
  const parts = key.split('/');
  if (parts.length > 2 || !parts.every(isName)) {
    throw new ValidationError([
      {
        field: `providers.${key}`,
        rule: `must be "provider" or "provider/service", each name ${NAME_RULE}`,
        received: key,
      },
    ]);
  }
}

/**
 * Circuit breakers over opossum, one per (provider, service type).
 *
 * A call never waits on I/O here. A provider that operators disabled or put in maintenance
 * is blocked with a typed error, not passed through.
 *
 * @example
 * ```ts
 * const breakers = new CircuitBreakerRegistry({ providers: { stripe: { timeoutMs: 5000 } } });
 * const charge = breakers.wrap('stripe', 'payment', (amount: number) => stripe.charge(amount));
 * await charge(1000); // throws BreakerOpenError while stripe/payment is open
 * ```
 */
export class CircuitBreakerRegistry extends EventEmitter<RegistryEvents> {
  readonly #breakers = new Map<string, ProviderBreaker>();
  readonly #access = new Map<string, ProviderAccess>();
  readonly #defaults: BreakerOptions;
  readonly #providers: Readonly<Record<string, BreakerOptions>>;

  /** @throws {@link ValidationError} when an option is out of range. */
  constructor(options: CircuitBreakerRegistryOptions = {}) {
    super();
    this.#defaults = options.defaults ?? {};
    this.#providers = options.providers ?? {};
    resolveBreakerOptions(this.#defaults, 'defaults');
    for (const [key, overrides] of Object.entries(this.#providers)) {
      requireOverrideKey(key);
      resolveBreakerOptions({ ...this.#defaults, ...overrides }, `providers.${key}`);
    }
  }

  /**
   * Returns the breaker for a provider and service, creating it on first use. `options`
   * apply only when the breaker is created.
   * @throws {@link ValidationError} for a blank name or a bad option.
   */
  register(provider: string, service: string, options?: BreakerOptions): ProviderBreaker {
    const key = keyOf(provider, service);
    const existing = this.#breakers.get(key);
    if (existing) {
      return existing;
    }

    requireName(provider, 'provider');
    requireName(service, 'service');
    const merged = {
      ...this.#defaults,
      ...this.#providers[provider],
      ...this.#providers[key],
      ...options,
    };
    const resolved = resolveBreakerOptions(merged, `providers.${key}`);
    const breaker = new ProviderBreaker(provider, service, resolved, this.#report);
    const access = this.#access.get(key);
    if (access) {
      breaker.setAccess(access);
    }
    this.#breakers.set(key, breaker);

    return breaker;
  }

  /**
   * Wraps `fn` so that every call goes through the provider's breaker. The wrapper has the
   * same arguments and result as `fn`, always as a promise. `options.fallback` answers this
   * wrapper's failed and refused calls only; the other options apply when this call creates
   * the breaker. After the breaker is disposed, the wrapper's next call starts a fresh one.
   * @throws {@link ValidationError} for a blank name or a bad option.
   */
  wrap<A extends unknown[], R>(
    provider: string,
    service: string,
    fn: (...args: A) => R | Promise<R>,
    options?: WrapOptions<A, Awaited<R>>,
  ): (...args: A) => Promise<Awaited<R>> {
    let breakerOptions = options as BreakerOptions | undefined;
    let target: (...args: never[]) => unknown = fn;
    let fallback: Fallback | undefined;
    if (options) {
      resolveBreakerOptions(breakerOptions, 'options');
      if (options.fallback) {
        // The breaker calls it with this wrapper's own arguments, which are `A`.
        ({ fallback, ...breakerOptions } = breakerOptions!);
        // Fallbacks are found by the function the breaker calls: one of this wrapper's own,
        // so that wrapping one function twice keeps two fallbacks.
        target = (...args: A) => fn(...args);
      }
    }
    let breaker = this.#wrapped(provider, service, breakerOptions, target, fallback);

    return (...args: A) => {
      // A disposed breaker is replaced on the next call; otherwise no lookup per call.
      if (breaker.disposed) {
        breaker = this.#wrapped(provider, service, breakerOptions, target, fallback);
      }

      return breaker.fire(target, args) as Promise<Awaited<R>>;
    };
  }

  #wrapped(
    provider: string,
    service: string,
    options: BreakerOptions | undefined,
    target: (...args: never[]) => unknown,
    fallback: Fallback | undefined,
  ): ProviderBreaker {
    const breaker = this.register(provider, service, options);
    if (fallback) {
      breaker.fallBackFor(target, fallback);
    }

    return breaker;
  }

  /** Calls `fn` once through the provider's breaker. */
  fire<R>(provider: string, service: string, fn: () => R | Promise<R>): Promise<Awaited<R>> {
    const breaker =
      this.#breakers.get(keyOf(provider, service)) ?? this.register(provider, service);

    return breaker.fire(fn, []) as Promise<Awaited<R>>;
  }

  /** The breaker for a provider and service, if one exists. */
  get(provider: string, service: string): ProviderBreaker | undefined {
    return this.#breakers.get(keyOf(provider, service));
  }

  /** A snapshot of every breaker. */
  list(): BreakerSnapshot[] {
    return [...this.#breakers.values()].map((breaker) => breaker.snapshot());
  }

  /**
   * Blocks or unblocks calls to a provider, as operators' toggles and maintenance say. Also
   * applies to a breaker created later.
   */
  setAccess(provider: string, service: string, access: ProviderAccess): void {
    const key = keyOf(provider, service);
    if (access.kind === 'enabled') {
      this.#access.delete(key);
    } else {
      this.#access.set(key, access);
    }
    this.#breakers.get(key)?.setAccess(access);
  }

  /**
   * Puts a breaker back into a stored state, creating it if needed, without an event. Takes
   * the fields of {@link ProviderBreaker.toJSON}, also after `JSON.stringify()`.
   * @throws {@link ValidationError} for a blank name or a malformed state.
   */
  restore(
    provider: string,
    service: string,
    circuit: StoredBreakerCircuit,
    failures: number,
  ): void {
    this.register(provider, service).restore(circuit, failures);
  }

  /**
   * Disposes one breaker, every breaker of a provider when `service` is left out, or every
   * breaker when called without arguments: their timers, listeners and statistics go with
   * them. Operators' access settings stay.
   */
  dispose(provider?: string, service?: string): void {
    for (const [key, breaker] of this.#breakers) {
      const matches =
        provider === undefined ||
        (breaker.provider === provider && (service === undefined || breaker.service === service));
      if (matches) {
        breaker.dispose();
        this.#breakers.delete(key);
      }
    }
  }

  readonly #report = (breaker: ProviderBreaker, transition: BreakerTransition): void => {
    const key = { provider: breaker.provider, service: breaker.service };
    if (transition.to === 'open') {
      const failures = breaker.snapshot().consecutiveFailures;
      this.emit('breaker:open', {
        ...key,
        openedAt: transition.openedAt,
        nextAttemptAt: transition.nextAttemptAt,
        failures,
        shared: transition.shared,
      });
    } else if (transition.to === 'half_open') {
      this.emit('breaker:half_open', key);
    } else {
      this.emit('breaker:close', { ...key, reason: transition.reason });
    }
  };
}
