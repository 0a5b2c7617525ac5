import { describe, expect, it } from 'vitest';

import {
  AlertEvaluator,
  DEFAULT_ALERT_RULES,
  createOps,
  isValidationError,
} from '../../src/index.js';

describe('AlertEvaluator options', () => {
  it.each([
    [{ responseTime: { warning: 6000 } }, 'alerts.responseTime.critical'],
    [{ healthCheckFailures: { warning: 2.5 } }, 'alerts.healthCheckFailures.warning'],
    [{ breakerTrips: { windowMs: 0 } }, 'alerts.breakerTrips.windowMs'],
    [{ overdueRotations: { critical: -1 } }, 'alerts.overdueRotations.critical'],
  ])('refuses %j, naming %s', (rules, field) => {
    const error = (() => {
      try {
        new AlertEvaluator({ rules });
      } catch (caught) {
        return caught;
      }
    })();

    expect(isValidationError(error)).toBe(true);
    expect(error).toMatchObject({ field });
  });

  it('refuses alert and metrics intervals out of range in createOps', () => {
    expect(() => createOps({ alertIntervalMs: 0 })).toThrow(
      expect.objectContaining({ field: 'alertIntervalMs' }),
    );
    expect(() => createOps({ metricsIntervalMs: 1.5 })).toThrow(
      expect.objectContaining({ field: 'metricsIntervalMs' }),
    );
    expect(() => createOps({ alerts: { responseTime: { critical: 1000 } } })).toThrow(
      expect.objectContaining({ field: 'alerts.responseTime.critical' }),
    );
  });

  it("defaults to the spec's Alert Thresholds", () => {
    expect(new AlertEvaluator().rules).toEqual(DEFAULT_ALERT_RULES);
    expect(DEFAULT_ALERT_RULES).toMatchObject({
      health_check_failures: { warning: 3, critical: 5, windowMs: 300_000 },
      circuit_breaker_trips: { warning: 1, critical: 2 },
      overdue_rotations: { warning: 86_400_000, critical: 7 * 86_400_000 },
      response_time: { warning: 2000, critical: 5000, compare: 'above' },
    });
  });

  it('widens the check failures window to fit the check interval, unless told', () => {
    const windowOf = (options: Parameters<typeof createOps>[0]) =>
      createOps(options).alertEvaluator.rules.health_check_failures.windowMs;

    expect(windowOf({})).toBe(5 * 300_000);
    expect(windowOf({ intervalMs: 30_000 })).toBe(300_000);
    expect(windowOf({ intervalMs: 30_000, providers: { 'a/b': { intervalMs: 120_000 } } })).toBe(
      600_000,
    );
    expect(windowOf({ alerts: { healthCheckFailures: { critical: 4 } } })).toBe(4 * 300_000);
    expect(windowOf({ alerts: { healthCheckFailures: { windowMs: 60_000 } } })).toBe(60_000);
  });
});
