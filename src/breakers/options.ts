import { z } from 'zod';

import { PROVIDER_DEFAULTS } from '../domain/defaults.js';
import { ValidationError, type FieldIssue } from '../errors/ValidationError.js';

/**
 * Options of one provider's circuit breaker. Every field is optional; the defaults are the
 * spec's (5 failures, 300 s reset).
 */
export interface BreakerOptions {
  /**
   * `count` opens after `failureThreshold` consecutive failures. `percentage` opens when the
   * rolling error rate reaches `errorThresholdPercentage` over at least `volumeThreshold` calls.
   * @defaultValue `'count'`
   */
  readonly mode?: 'count' | 'percentage';
  /**
   * Consecutive failures that open the breaker in `count` mode.
   * @defaultValue 5
   */
  readonly failureThreshold?: number;
  /**
   * Milliseconds an open breaker waits before it lets trial calls through, at most
   * 2 147 483 647 (about 24.8 days).
   * @defaultValue 300000
   */
  readonly resetTimeoutMs?: number;
  /**
   * Milliseconds a call may take before it fails with a timeout, at most 2 147 483 647;
   * `false` for none.
   * @defaultValue 10000
   */
  readonly timeoutMs?: number | false;
  /**
   * Trial calls let through while half-open. The rest are refused until a trial ends.
   * @defaultValue 1
   */
  readonly halfOpenMaxCalls?: number;
  /**
   * Returns true for an error that must not count against the provider, such as a 4xx card
   * decline. The error still reaches the caller, unchanged: the fallback never replaces it.
   */
  readonly errorFilter?: (error: unknown) => boolean;
  /**
   * Answers in place of the provider when the call fails or is refused. It receives the
   * error (a typed {@link ProviderCallError} when the call was refused) and the arguments.
   */
  readonly fallback?: (error: unknown, ...args: unknown[]) => unknown;
  /**
   * Error rate, in percent, that opens the breaker in `percentage` mode.
   * @defaultValue 50
   */
  readonly errorThresholdPercentage?: number;
  /**
   * Calls needed in the rolling window before `percentage` mode may open the breaker.
   * @defaultValue 10
   */
  readonly volumeThreshold?: number;
  /**
   * Length of the rolling statistics window, in milliseconds: from 10 to 2 147 483 647.
   * @defaultValue 10000
   */
  readonly rollingWindowMs?: number;
}

/**
 * Options for `wrap()`: {@link BreakerOptions}, with a fallback typed by the wrapped
 * function, so that it must take the same arguments and answer with the same result. The
 * fallback answers this wrapper's calls only, in place of the breaker's own. The other
 * options apply when `wrap()` creates the breaker; for one that exists they are checked, then
 * ignored.
 */
export interface WrapOptions<A extends unknown[], R> extends Omit<BreakerOptions, 'fallback'> {
  /**
   * Answers in place of the provider when the call fails or is refused. It receives the
   * error (a typed {@link ProviderCallError} when the call was refused) and the call's
   * arguments.
   */
  readonly fallback?: (error: unknown, ...args: A) => R | Promise<R>;
}

/** {@link BreakerOptions} with every default applied. */
export type ResolvedBreakerOptions = Required<
  Omit<BreakerOptions, 'errorFilter' | 'fallback' | 'timeoutMs'>
> & {
  /** Milliseconds a call may take before it fails with a timeout; `false` for none. */
  readonly timeoutMs: number | false;
  /** Returns true for an error that must not count against the provider, if set. */
  readonly errorFilter: ((error: unknown) => boolean) | undefined;
  /** Answers in place of the provider when the call fails or is refused, if set. */
  readonly fallback: ((error: unknown, ...args: unknown[]) => unknown) | undefined;
};

const positiveInt = z.number().int().min(1);
// Node's timers fire after 1 ms when asked to wait longer than 2^31 - 1 ms (about 24.8 days).
const durationMs = positiveInt.max(2_147_483_647);
const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  message: 'must be a function',
});

/**
 * zod schema of {@link BreakerOptions}; unknown keys are refused. Its `mode` field, `'count'`
 * or `'percentage'`, is left out of these docs: see {@link BreakerOptions.mode}.
 */
export const breakerOptionsSchema = z.strictObject({
  // zod's enum type has no declarations that a comment could document.
  /** @hidden */
  mode: z.enum(['count', 'percentage']).optional(),
  /** {@link BreakerOptions.failureThreshold}: an integer of at least 1. */
  failureThreshold: positiveInt.optional(),
  /** {@link BreakerOptions.resetTimeoutMs}: an integer from 1 to 2 147 483 647. */
  resetTimeoutMs: durationMs.optional(),
  /** {@link BreakerOptions.timeoutMs}: an integer from 1 to 2 147 483 647, or `false`. */
  timeoutMs: z.union([durationMs, z.literal(false)]).optional(),
  /** {@link BreakerOptions.halfOpenMaxCalls}: an integer from 1 to 1000. */
  halfOpenMaxCalls: positiveInt.max(1000).optional(),
  /** {@link BreakerOptions.errorFilter}: a function. */
  errorFilter: fn.optional(),
  /** {@link BreakerOptions.fallback}: a function. */
  fallback: fn.optional(),
  /** {@link BreakerOptions.errorThresholdPercentage}: above 0, at most 100. */
  errorThresholdPercentage: z.number().gt(0).max(100).optional(),
  /** {@link BreakerOptions.volumeThreshold}: an integer of at least 0. */
  volumeThreshold: z.number().int().min(0).optional(),
  // opossum rotates ten buckets per window, so a shorter window would rotate every 1 ms.
  /** {@link BreakerOptions.rollingWindowMs}: an integer from 10 to 2 147 483 647. */
  rollingWindowMs: durationMs.min(10).optional(),
});

/** Reads the value at a zod issue's path, for the error's `received`. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  }

  return typeof value === 'function' ? '[function]' : value;
}

/**
 * Turns zod's issues into {@link FieldIssue}s that name the option, the rule and the value.
 * @internal
 */
export function toFieldIssues(error: z.ZodError, input: unknown, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = [...issue.path, ...keys.slice(0, 1)];
    const field = prefix + path.map(String).join('.');
    const rule = issue.code === 'unrecognized_keys' ? 'is not a known option' : issue.message;

    return { field: field || prefix.replace(/\.$/, ''), rule, received: valueAt(input, path) };
  });
}

/**
 * Validates breaker options and applies the defaults.
 * @throws {@link ValidationError} naming the option, the rule and the value received.
 */
export function resolveBreakerOptions(
  options: BreakerOptions | undefined,
  field = 'options',
): ResolvedBreakerOptions {
  const parsed = breakerOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    throw new ValidationError(toFieldIssues(parsed.error, options, `${field}.`));
  }

  const value = options ?? {};

  return {
    mode: value.mode ?? 'count',
    failureThreshold: value.failureThreshold ?? PROVIDER_DEFAULTS.failureThreshold,
    resetTimeoutMs: value.resetTimeoutMs ?? PROVIDER_DEFAULTS.resetTimeoutSeconds * 1000,
    timeoutMs: value.timeoutMs ?? 10_000,
    halfOpenMaxCalls: value.halfOpenMaxCalls ?? 1,
    errorFilter: value.errorFilter,
    fallback: value.fallback,
    errorThresholdPercentage: value.errorThresholdPercentage ?? 50,
    volumeThreshold: value.volumeThreshold ?? 10,
    rollingWindowMs: value.rollingWindowMs ?? 10_000,
  };
}
