import { ValidationError, type FieldIssue } from '../errors/ValidationError.js';

/** The alert rules, one per row of the spec's Alert Thresholds table. */
export const ALERT_RULES = [
  'health_check_failures',
  'circuit_breaker_trips',
  'overdue_rotations',
  'response_time',
] as const;

/** An alert rule: one of {@link ALERT_RULES}. */
export type AlertRule = (typeof ALERT_RULES)[number];

/** How urgent an active alert is, as in the spec's table. */
export type AlertLevel = 'warning' | 'critical';

/** Overrides of one rule. Units are the rule's own: see {@link AlertRulesOptions}. */
export interface AlertRuleOptions {
  /** The level at which the rule warns. */
  readonly warning?: number;
  /** The level at which it is critical; at least `warning`. */
  readonly critical?: number;
  /** Milliseconds the rule looks back over, where it counts or averages. */
  readonly windowMs?: number;
  /**
   * Whether the rule is evaluated at all.
   * @defaultValue true
   */
  readonly enabled?: boolean;
}

/** Per-rule overrides of the spec's Alert Thresholds. */
export interface AlertRulesOptions {
  /**
   * Failed health checks of one provider within `windowMs`; checks the breaker refused are
   * no evidence and do not count.
   * @defaultValue `{ warning: 3, critical: 5, windowMs: 300000 }`
   */
  readonly healthCheckFailures?: AlertRuleOptions;
  /**
   * Times one provider's breaker opened within `windowMs`: any trip warns, multiple trips
   * (a second) are critical.
   * @defaultValue `{ warning: 1, critical: 2, windowMs: 3600000 }`
   */
  readonly breakerTrips?: AlertRuleOptions;
  /**
   * Milliseconds one active secret is past its next rotation date. `windowMs` is unused.
   * @defaultValue `{ warning: 86400000, critical: 604800000 }`: 1 day and 7 days
   */
  readonly overdueRotations?: AlertRuleOptions;
  /**
   * Average response time of one provider's successful calls and checks within `windowMs`,
   * in milliseconds; the rule fires above the level, not at it.
   * @defaultValue `{ warning: 2000, critical: 5000, windowMs: 300000 }`
   */
  readonly responseTime?: AlertRuleOptions;
}

/** One rule's resolved thresholds. */
export interface RuleThresholds {
  /** The warning level, in the rule's unit. */
  readonly warning: number;
  /** The critical level, in the rule's unit. */
  readonly critical: number;
  /** Milliseconds looked back over; 0 for a rule that looks at the present only. */
  readonly windowMs: number;
  /** Whether the rule is evaluated. */
  readonly enabled: boolean;
  /** `at-least` fires at the level; `above` only past it. */
  readonly compare: 'at-least' | 'above';
}

/** Every rule's resolved thresholds, overrides applied. */
export type ResolvedAlertRules = Readonly<Record<AlertRule, RuleThresholds>>;

const DAY_MS = 86_400_000;
// setInterval and setTimeout fire after 1 ms when asked for more than 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

const OPTION_OF: Readonly<Record<AlertRule, keyof AlertRulesOptions>> = {
  health_check_failures: 'healthCheckFailures',
  circuit_breaker_trips: 'breakerTrips',
  overdue_rotations: 'overdueRotations',
  response_time: 'responseTime',
};

/** The spec's Alert Thresholds, as defaults. */
export const DEFAULT_ALERT_RULES: ResolvedAlertRules = {
  health_check_failures: {
    warning: 3,
    critical: 5,
    windowMs: 300_000,
    enabled: true,
    compare: 'at-least',
  },
  circuit_breaker_trips: {
    warning: 1,
    critical: 2,
    windowMs: 3_600_000,
    enabled: true,
    compare: 'at-least',
  },
  overdue_rotations: {
    warning: DAY_MS,
    critical: 7 * DAY_MS,
    windowMs: 0,
    enabled: true,
    compare: 'at-least',
  },
  response_time: {
    warning: 2000,
    critical: 5000,
    windowMs: 300_000,
    enabled: true,
    compare: 'above',
  },
};

function checkRule(
  rule: AlertRule,
  overrides: AlertRuleOptions | undefined,
  issues: FieldIssue[],
): RuleThresholds {
  const base = DEFAULT_ALERT_RULES[rule];
  // A key given as undefined keeps the default.
  const given = Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined);
  const resolved: RuleThresholds = { ...base, ...Object.fromEntries(given) };
  const field = `alerts.${OPTION_OF[rule]}`;
  const counts = resolved.compare === 'at-least' && rule !== 'overdue_rotations';
  for (const level of ['warning', 'critical'] as const) {
    const value = resolved[level];
    const valid = counts ? Number.isInteger(value) && value >= 1 : value > 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || !valid) {
      const text = counts ? 'must be an integer of at least 1' : 'must be a positive number';
      issues.push({ field: `${field}.${level}`, rule: text, received: value });
    }
  }
  if (resolved.critical < resolved.warning) {
    issues.push({
      field: `${field}.critical`,
      rule: `must be at least warning (${resolved.warning})`,
      received: resolved.critical,
    });
  }
  const windowMs = resolved.windowMs;
  const needsWindow = rule !== 'overdue_rotations';
  if (
    needsWindow &&
    (!Number.isInteger(windowMs) || windowMs < 1 || windowMs > MAX_TIMER_DELAY_MS)
  ) {
    issues.push({
      field: `${field}.windowMs`,
      rule: `must be an integer from 1 to ${MAX_TIMER_DELAY_MS}`,
      received: windowMs,
    });
  }
  if (typeof resolved.enabled !== 'boolean') {
    issues.push({
      field: `${field}.enabled`,
      rule: 'must be a boolean',
      received: resolved.enabled,
    });
  }

  return resolved;
}

/**
 * The spec's thresholds with the overrides applied, rule by rule and field by field.
 * @throws {@link ValidationError} naming every option out of range, such as
 * `alerts.responseTime.critical`.
 * @internal
 */
export function resolveAlertRules(overrides: AlertRulesOptions = {}): ResolvedAlertRules {
  const issues: FieldIssue[] = [];
  const resolved = Object.fromEntries(
    ALERT_RULES.map((rule) => [rule, checkRule(rule, overrides[OPTION_OF[rule]], issues)]),
  ) as Record<AlertRule, RuleThresholds>;
  if (issues.length > 0) {
    throw new ValidationError(issues);
  }

  return resolved;
}

/**
 * The window of the health check failures rule when none is given: the spec's 5 minutes, or
 * long enough for `critical` checks at the longest check interval. At the spec's own 300 s
 * interval, 3 failed checks can never fall within 5 minutes.
 * @internal
 */
export function checkFailureWindowMs(critical: number, longestIntervalMs: number): number {
  const base = DEFAULT_ALERT_RULES.health_check_failures.windowMs;

  return Math.min(MAX_TIMER_DELAY_MS, Math.max(base, critical * longestIntervalMs));
}

/** The level a value reaches under a rule's thresholds, if any. @internal */
export function levelOf(value: number, thresholds: RuleThresholds): AlertLevel | undefined {
  const reaches = (level: number) =>
    thresholds.compare === 'above' ? value > level : value >= level;
  if (reaches(thresholds.critical)) {
    return 'critical';
  }

  return reaches(thresholds.warning) ? 'warning' : undefined;
}

/** Milliseconds in words: `90 s`, `5 min`, `2 h`, `8 days`. @internal */
export function formatDuration(ms: number): string {
  if (ms >= 2 * DAY_MS) {
    return `${Math.floor(ms / DAY_MS)} days`;
  }
  if (ms >= 3_600_000) {
    return `${Math.floor(ms / 3_600_000)} h`;
  }

  return ms >= 60_000 ? `${Math.floor(ms / 60_000)} min` : `${Math.floor(ms / 1000)} s`;
}
