import {
  ProviderDisabledError,
  ProviderInMaintenanceError,
  type ProviderCallContext,
} from '../errors/provider.js';
import type { ProviderAccess } from './state.js';

/**
 * The context a breaker's errors carry: its provider, service and state now.
 * @internal
 */
export function contextOf(breaker: ProviderCallContext): ProviderCallContext {
  return { provider: breaker.provider, service: breaker.service, state: breaker.state };
}

/**
 * The error that refuses a call while operators block the provider.
 * @internal
 */
export function accessError(breaker: ProviderCallContext, access: ProviderAccess): Error {
  return access.kind === 'maintenance'
    ? new ProviderInMaintenanceError(contextOf(breaker), access.until)
    : new ProviderDisabledError(contextOf(breaker));
}

/** A fallback as a breaker calls it: the error, then the call's arguments. @internal */
export type Fallback = (error: unknown, ...args: unknown[]) => unknown;

/**
 * Settles a refused or failed call: with the fallback's answer when there is a fallback,
 * otherwise by rejecting with the error.
 * @internal
 */
export function fallbackOr(
  fallback: Fallback | undefined,
  error: unknown,
  args: unknown[],
): Promise<unknown> {
  if (!fallback) {
    return Promise.reject(error);
  }

  try {
    return Promise.resolve(fallback(error, ...args));
  } catch (fallbackError) {
    return Promise.reject(fallbackError);
  }
}

/**
 * The fallbacks given to `wrap()`, by the function each wrapper calls: they answer that
 * wrapper's calls in place of the breaker's own fallback.
 * @internal
 */
export class WrapperFallbacks {
  // Created with the first: most breakers never get one, and a WeakMap is not small.
  #byFn: WeakMap<object, Fallback> | undefined;

  /** Answers the calls of `fn` with `fallback`. */
  set(fn: object, fallback: Fallback): void {
    (this.#byFn ??= new WeakMap()).set(fn, fallback);
  }

  /** The fallback of `fn`'s wrapper, else `otherwise`. */
  of(fn: object, otherwise: Fallback | undefined): Fallback | undefined {
    return this.#byFn?.get(fn) ?? otherwise;
  }
}
