import { z } from 'zod';

import { toFieldIssues } from '../breakers/options.js';
import { PROVIDER_DEFAULTS } from '../domain/defaults.js';
import { DEFAULT_STATUS_THRESHOLDS, type StatusThresholds } from '../domain/status.js';
import { ValidationError } from '../errors/ValidationError.js';

// Node's timers fire after 1 ms when asked to wait longer than 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

const durationMs = z.number().int().min(1).max(MAX_TIMER_DELAY_MS);
const rate = z.number().min(0).max(1);

const thresholdsSchema = z.strictObject({
  degradedBelowSuccessRate: rate.optional(),
  unhealthyBelowSuccessRate: rate.optional(),
  unhealthyAfterFailedChecks: z.number().int().min(1).optional(),
  degradedAboveResponseMs: z.number().min(0).optional(),
  minCallsForSuccessRate: z.number().int().min(0).optional(),
});

const monitorSchema = z.object({
  intervalMs: durationMs.optional(),
  checkTimeoutMs: durationMs.optional(),
  maxConcurrentChecks: z.number().int().min(1).max(1000).optional(),
  successRateWindowMs: durationMs.optional(),
  thresholds: thresholdsSchema.optional(),
});

/**
 * The monitor's numeric options, before defaults.
 * @internal
 */
export type MonitorTuning = z.input<typeof monitorSchema>;

/**
 * The monitor's numeric options with every default applied.
 * @internal
 */
export interface ResolvedMonitorTuning {
  /** Milliseconds between a provider's checks. */
  readonly intervalMs: number;
  /** Milliseconds a check may take. */
  readonly checkTimeoutMs: number;
  /** Checks that may run at once. */
  readonly maxConcurrentChecks: number;
  /** Milliseconds of calls the success rate is over. */
  readonly successRateWindowMs: number;
  /** The status rules' thresholds, defaults filled in. */
  readonly thresholds: StatusThresholds;
}

/**
 * Validates the monitor's options and applies the defaults.
 * @throws {@link ValidationError} naming the option, the rule and the value received.
 * @internal
 */
export function resolveMonitorOptions(options: MonitorTuning): ResolvedMonitorTuning {
  const tuning = {
    intervalMs: options.intervalMs,
    checkTimeoutMs: options.checkTimeoutMs,
    maxConcurrentChecks: options.maxConcurrentChecks,
    successRateWindowMs: options.successRateWindowMs,
    thresholds: options.thresholds,
  };
  const parsed = monitorSchema.safeParse(tuning);
  if (!parsed.success) {
    throw new ValidationError(toFieldIssues(parsed.error, tuning));
  }

  return {
    intervalMs: tuning.intervalMs ?? PROVIDER_DEFAULTS.healthCheckIntervalSeconds * 1000,
    checkTimeoutMs: tuning.checkTimeoutMs ?? 10_000,
    maxConcurrentChecks: tuning.maxConcurrentChecks ?? 4,
    successRateWindowMs: tuning.successRateWindowMs ?? 300_000,
    thresholds: {
      ...DEFAULT_STATUS_THRESHOLDS,
      ...(definedOnly(tuning.thresholds ?? {}) as Partial<StatusThresholds>),
    },
  };
}

// An option set to undefined keeps its default instead of erasing it.
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}

/**
 * Validates one provider's check interval.
 * @throws {@link ValidationError} naming `intervalMs`.
 * @internal
 */
export function resolveIntervalMs(intervalMs: number | undefined, fallback: number): number {
  const parsed = durationMs.optional().safeParse(intervalMs);
  if (!parsed.success) {
    throw new ValidationError(toFieldIssues(parsed.error, intervalMs, 'intervalMs'));
  }

  return intervalMs ?? fallback;
}
