import { ProviderTimeoutError, type ProviderCallContext } from '../errors/provider.js';
import type { ResolvedBreakerOptions } from './options.js';
import { contextOf, fallbackOr, type Fallback } from './refusals.js';

/**
 * True for a value a `WeakSet` can hold.
 * @internal
 */
export const isObject = (value: unknown): value is object =>
  (typeof value === 'object' && value !== null) || typeof value === 'function';

/**
 * Runs the breaker's error filter for opossum. An object it lets through is marked, so that
 * the success listener and the fallback know it again.
 * @internal
 */
export function markFiltered(
  error: unknown,
  errorFilter: ((error: unknown) => boolean) | undefined,
  filteredErrors: WeakSet<object>,
): boolean {
  const filtered = errorFilter?.(error) === true;
  if (filtered && isObject(error)) {
    filteredErrors.add(error);
  }

  return filtered;
}

/**
 * Turns opossum's own timeout error into a {@link ProviderTimeoutError}; any other error is
 * returned as it is.
 * @internal
 */
export function translateError(
  error: unknown,
  timeoutErrors: WeakSet<object>,
  timeoutMs: number | false,
  breaker: ProviderCallContext,
): unknown {
  // opossum's timeout error carries code ETIMEDOUT, as a provider's socket error may; the one
  // seen by the 'timeout' listener is opossum's. The message text is never parsed.
  const ours =
    isObject(error) &&
    (error as { code?: unknown }).code === 'ETIMEDOUT' &&
    timeoutErrors.has(error);
  if (!ours || timeoutMs === false) {
    return error;
  }

  return new ProviderTimeoutError(contextOf(breaker), timeoutMs, error);
}

/**
 * Settles a call opossum counted as failed, from its fallback. A filtered error is the
 * provider's answer, such as a card decline: the caller gets it as it is, never the
 * fallback's answer. Any other error is translated, then handed to `fallback` if there is
 * one. `marked` holds the errors the filter let through and opossum's own timeout errors.
 * @internal
 */
export function settleFailure(
  breaker: ProviderCallContext & { readonly options: ResolvedBreakerOptions },
  error: unknown,
  args: unknown[],
  fallback: Fallback | undefined,
  marked: { readonly filtered: WeakSet<object>; readonly timeouts: WeakSet<object> },
): Promise<unknown> {
  const options = breaker.options;
  // Objects were marked by the filter when it ran; anything else is asked again.
  const filtered = isObject(error)
    ? marked.filtered.has(error)
    : options.errorFilter?.(error) === true;
  if (filtered) {
    return Promise.reject(error);
  }

  const translated = translateError(error, marked.timeouts, options.timeoutMs, breaker);

  return fallbackOr(fallback, translated, args);
}
