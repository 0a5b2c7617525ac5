import type { BreakerState } from '../domain/vocabularies.js';
import { guardFor, M28Error } from './M28Error.js';

/** Where a blocked or failed provider call was headed, and the breaker's state then. */
export interface ProviderCallContext {
  /** Provider name, such as `stripe`. */
  readonly provider: string;
  /** Service type, such as `payment`. */
  readonly service: string;
  /** The breaker's state when the call was refused. */
  readonly state: BreakerState;
}

/** Base of the errors a breaker raises instead of calling the provider. */
export class ProviderCallError extends M28Error {
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
  /** The breaker's state when the call was refused. */
  readonly state: BreakerState;

  constructor(code: string, message: string, context: ProviderCallContext, cause?: unknown) {
    super(code, message, { cause });
    this.provider = context.provider;
    this.service = context.service;
    this.state = context.state;
  }
}

/** The breaker is open, or half-open with every trial slot taken: the call was not made. */
export class BreakerOpenError extends ProviderCallError {
  /** When the breaker next lets a trial call through, if it is open. */
  readonly nextAttemptAt: Date | undefined;

  constructor(context: ProviderCallContext, nextAttemptAt?: Date) {
    super(
      'M28_BREAKER_OPEN',
      `circuit breaker for ${context.provider}/${context.service} is ${context.state}`,
      context,
    );
    this.nextAttemptAt = nextAttemptAt;
  }
}

/** An operator disabled the provider: the call was not made. */
export class ProviderDisabledError extends ProviderCallError {
  constructor(context: ProviderCallContext) {
    super(
      'M28_PROVIDER_DISABLED',
      `${context.provider}/${context.service} is disabled by an operator`,
      context,
    );
  }
}

/** The provider is in maintenance: the call was not made. */
export class ProviderInMaintenanceError extends ProviderCallError {
  /** When maintenance ends by itself, if it has an expiry. */
  readonly maintenanceUntil: Date | undefined;

  constructor(context: ProviderCallContext, maintenanceUntil?: Date) {
    super(
      'M28_PROVIDER_IN_MAINTENANCE',
      `${context.provider}/${context.service} is in maintenance`,
      context,
    );
    this.maintenanceUntil = maintenanceUntil;
  }
}

/** The provider call took longer than the breaker's timeout. It counts as a failure. */
export class ProviderTimeoutError extends ProviderCallError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param cause - the timeout error of the breaker's engine, kept for debugging.
   */
  constructor(context: ProviderCallContext, timeoutMs: number, cause?: unknown) {
    super(
      'M28_PROVIDER_TIMEOUT',
      `${context.provider}/${context.service} did not answer within ${timeoutMs} ms`,
      context,
      cause,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** True when `error` is a {@link ProviderCallError} of any kind. */
export function isProviderCallError(error: unknown): error is ProviderCallError {
  return (
    isBreakerOpenError(error) ||
    isProviderDisabledError(error) ||
    isProviderInMaintenanceError(error) ||
    isProviderTimeoutError(error)
  );
}

/** True when `error` is a {@link BreakerOpenError}. */
export const isBreakerOpenError = guardFor<BreakerOpenError>('M28_BREAKER_OPEN');
/** True when `error` is a {@link ProviderDisabledError}. */
export const isProviderDisabledError = guardFor<ProviderDisabledError>('M28_PROVIDER_DISABLED');
/** True when `error` is a {@link ProviderInMaintenanceError}. */
export const isProviderInMaintenanceError = guardFor<ProviderInMaintenanceError>(
  'M28_PROVIDER_IN_MAINTENANCE',
);
/** True when `error` is a {@link ProviderTimeoutError}. */
export const isProviderTimeoutError = guardFor<ProviderTimeoutError>('M28_PROVIDER_TIMEOUT');
