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

/**
 * Settles a refused or failed call: with the fallback's answer when there is a fallback,
 * otherwise by rejecting with the error.
 * @internal
 */
export function fallbackOr(
  fallback: ((error: unknown, ...args: unknown[]) => unknown) | undefined,
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
