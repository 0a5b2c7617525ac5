import { describe, expect, it } from 'vitest';

import { advance, answer, failCheck, trip, useEvaluator } from './alertSupport.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('AlertEvaluator: health check failures', () => {
  const start = useEvaluator();

  it('warns at 3 failures in 5 min, is critical at 5, and resolves as they age out', async () => {
    const { sources, transitions, raised, evaluator } = start();
    for (let i = 0; i < 2; i += 1) {
      failCheck(sources);
      await advance(10_000);
    }
    expect(transitions).toEqual([]);

    failCheck(sources);
    await advance(10_000);
    expect(transitions).toEqual([['raised', 'health_check_failures', 'warning']]);
    failCheck(sources);
    await advance(10_000);
    failCheck(sources);
    await advance(10_000);
    expect(transitions.at(-1)).toEqual(['raised', 'health_check_failures', 'critical']);
    expect(raised.at(-1)).toMatchObject({
      provider: 'stripe',
      service: 'payment',
      value: 5,
      threshold: 5,
      previousLevel: 'warning',
    });
    expect(evaluator.alerts()).toMatchObject([
      { rule: 'health_check_failures', level: 'critical' },
    ]);

    // The first failure is 5 min old at 5 min: 4 left, then 2.
    await advance(5 * MIN - 50_000);
    expect(transitions.at(-1)).toEqual(['raised', 'health_check_failures', 'warning']);
    await advance(20_000);
    expect(transitions).toEqual([
      ['raised', 'health_check_failures', 'warning'],
      ['raised', 'health_check_failures', 'critical'],
      ['raised', 'health_check_failures', 'warning'],
      ['resolved', 'health_check_failures', 'warning'],
    ]);
    expect(evaluator.alerts()).toEqual([]);
  });

  it('does not count checks the breaker refused, nor checks that passed', async () => {
    const { sources, transitions } = start();
    for (let i = 0; i < 5; i += 1) {
      failCheck(sources, 'stripe', 'circuit_breaker_open');
      failCheck(sources, 'stripe', 'maintenance');
      sources.monitor.emit('health:checked', {
        provider: 'stripe',
        service: 'payment',
        at: new Date(),
        passed: true,
        available: true,
        responseTimeMs: 20,
      });
    }
    await advance(5000);

    expect(transitions).toEqual([]);
  });

  it("forgets a provider's failures when an operator resets its breaker", async () => {
    const { sources, transitions } = start();
    for (let i = 0; i < 3; i += 1) failCheck(sources);
    await advance(1000);

    sources.monitor.emit('breaker:reset', {
      provider: 'stripe',
      service: 'payment',
      origin: 'local',
    });
    await advance(1000);

    expect(transitions).toEqual([
      ['raised', 'health_check_failures', 'warning'],
      ['resolved', 'health_check_failures', 'warning'],
    ]);
  });
});

describe('AlertEvaluator: circuit breaker trips', () => {
  const start = useEvaluator();

  it('warns at any trip, is critical at a second in an hour, resolves after it', async () => {
    const { sources, transitions, raised } = start();
    trip(sources);
    await advance(0);
    expect(transitions).toEqual([['raised', 'circuit_breaker_trips', 'warning']]);

    await advance(10 * MIN);
    expect(transitions).toHaveLength(1);
    trip(sources);
    await advance(0);
    expect(transitions.at(-1)).toEqual(['raised', 'circuit_breaker_trips', 'critical']);
    expect(raised.at(-1)?.summary).toBe('stripe/payment: circuit breaker tripped 2 times in 1 h');

    await advance(HOUR - 10 * MIN + 1000);
    expect(transitions.at(-1)).toEqual(['raised', 'circuit_breaker_trips', 'warning']);
    await advance(10 * MIN);
    expect(transitions).toEqual([
      ['raised', 'circuit_breaker_trips', 'warning'],
      ['raised', 'circuit_breaker_trips', 'critical'],
      ['raised', 'circuit_breaker_trips', 'warning'],
      ['resolved', 'circuit_breaker_trips', 'warning'],
    ]);
  });

  it('keeps one alert per provider and service', async () => {
    const { sources, evaluator } = start();
    trip(sources, 'stripe');
    trip(sources, 'twilio');
    await advance(0);

    expect(evaluator.alerts().map((a) => a.rule === 'circuit_breaker_trips' && a.provider)).toEqual(
      ['stripe', 'twilio'],
    );
  });
});

describe('AlertEvaluator: overdue rotations', () => {
  const start = useEvaluator({ evaluationIntervalMs: HOUR });

  function scan(sources: ReturnType<typeof start>['sources'], lateMs?: number) {
    if (lateMs !== undefined) {
      const nextRotationAt = new Date(Date.now() - lateMs);
      sources.scheduler.emit('rotation:due', {
        scope: 'stripe',
        keyName: 'secret_key',
        nextRotationAt,
        lateMs,
        rotating: false,
      });
    }
    sources.scheduler.emit('scheduler:scanned', { due: lateMs === undefined ? 0 : 1, started: 0 });
  }

  it('warns a day late, is critical a week late, and resolves once rotated', async () => {
    const { sources, transitions, raised, evaluator } = start();
    scan(sources, 12 * HOUR);
    await advance(HOUR);
    expect(transitions).toEqual([]);

    // Lateness grows between scans: no new scan is needed to cross a level.
    await advance(11 * HOUR);
    expect(transitions).toEqual([['raised', 'overdue_rotations', 'warning']]);
    expect(raised[0]).toMatchObject({ scope: 'stripe', keyName: 'secret_key', threshold: DAY });
    scan(sources, 3 * DAY);
    await advance(4 * DAY);
    expect(transitions).toHaveLength(2);
    expect(transitions[1]).toEqual(['raised', 'overdue_rotations', 'critical']);
    expect(evaluator.alerts()[0]?.summary).toBe('stripe/secret_key: rotation 7 days late');

    scan(sources);
    await advance(HOUR);
    expect(transitions.at(-1)).toEqual(['resolved', 'overdue_rotations', 'critical']);
    expect(evaluator.alerts()).toEqual([]);
  });

  it('resolves at once when the rotation completes', async () => {
    const { sources, transitions } = start();
    scan(sources, 2 * DAY);
    await advance(0);

    sources.secrets.emit('rotation:completed', {
      rotationId: 'r1',
      scope: 'stripe',
      keyName: 'secret_key',
      version: 'v2',
      fingerprint: `sha256:${'0'.repeat(64)}`,
    });
    await advance(0);

    expect(transitions).toEqual([
      ['raised', 'overdue_rotations', 'warning'],
      ['resolved', 'overdue_rotations', 'warning'],
    ]);
  });
});

describe('AlertEvaluator: overdue rotations left open', () => {
  const start = useEvaluator({ evaluationIntervalMs: HOUR });

  it('stays raised while a late secret has a rotation open', async () => {
    const { sources, transitions } = start();
    const secret = { scope: 'stripe', keyName: 'secret_key' };
    const scanRotating = (lateMs: number) => {
      const nextRotationAt = new Date(Date.now() - lateMs);
      sources.scheduler.emit('rotation:due', { ...secret, nextRotationAt, lateMs, rotating: true });
      // Not counted as due: the secret is being rotated.
      sources.scheduler.emit('scheduler:scanned', { due: 0, started: 0 });
    };

    scanRotating(2 * DAY);
    await advance(HOUR);
    scanRotating(2 * DAY + HOUR);
    await advance(HOUR);
    expect(transitions).toEqual([['raised', 'overdue_rotations', 'warning']]);

    // A scan that no longer finds it late (the rotation completed elsewhere) resolves it.
    sources.scheduler.emit('scheduler:scanned', { due: 0, started: 0 });
    await advance(HOUR);
    expect(transitions.at(-1)).toEqual(['resolved', 'overdue_rotations', 'warning']);
  });
});

describe('AlertEvaluator: average response time', () => {
  const start = useEvaluator();

  it('warns over 2 s, is critical over 5 s, and resolves when the calls age out', async () => {
    const breaker = start.sources().addBreaker('stripe', 'payment');
    const { transitions, raised, evaluator } = start();
    answer(breaker, 10, 2000);
    await advance(1000);
    expect(transitions).toEqual([]);

    answer(breaker, 10, 2100);
    await advance(1000);
    expect(transitions).toEqual([['raised', 'response_time', 'warning']]);
    answer(breaker, 20, 8000);
    await advance(1000);
    expect(transitions.at(-1)).toEqual(['raised', 'response_time', 'critical']);
    expect(raised.at(-1)?.value).toBe(5025);

    await advance(6 * 60_000);
    expect(transitions.at(-1)).toEqual(['resolved', 'response_time', 'critical']);
    expect(evaluator.alerts()).toEqual([]);
  });

  it('does not count calls made before it started', async () => {
    const breaker = start.sources().addBreaker('stripe', 'payment');
    answer(breaker, 10, 9000);
    const { transitions } = start();
    await advance(1000);
    answer(breaker, 10, 100);
    await advance(1000);

    expect(transitions).toEqual([]);
  });
});

describe('AlertEvaluator transitions', () => {
  const start = useEvaluator();

  it('emits once per transition, however often it evaluates', async () => {
    const { sources, transitions, evaluator } = start();
    for (let i = 0; i < 3; i += 1) failCheck(sources);
    trip(sources);
    await advance(0);
    for (let i = 0; i < 50; i += 1) evaluator.evaluate();
    await advance(30_000);

    expect(transitions).toEqual([
      ['raised', 'health_check_failures', 'warning'],
      ['raised', 'circuit_breaker_trips', 'warning'],
    ]);
    expect(evaluator.alerts().map((a) => a.rule)).toEqual([
      'health_check_failures',
      'circuit_breaker_trips',
    ]);
  });

  it('applies per-rule overrides, field by field', async () => {
    const { sources, transitions, evaluator } = start({
      rules: {
        healthCheckFailures: { warning: 1, windowMs: MIN },
        breakerTrips: { enabled: false },
        responseTime: { warning: 100, critical: 200 },
      },
    });
    expect(evaluator.rules.health_check_failures).toMatchObject({ warning: 1, critical: 5 });
    const breaker = sources.addBreaker('stripe', 'payment');
    await advance(1000);

    failCheck(sources);
    trip(sources);
    answer(breaker, 4, 250);
    await advance(1000);
    expect(transitions).toEqual([
      ['raised', 'health_check_failures', 'warning'],
      ['raised', 'response_time', 'critical'],
    ]);
    await advance(MIN);
    expect(transitions).toContainEqual(['resolved', 'health_check_failures', 'warning']);
  });

  it('stops evaluating once closed, and keeps the alerts it had', async () => {
    const { sources, transitions, evaluator } = start();
    trip(sources);
    await advance(0);
    evaluator.close();
    evaluator.close();

    await advance(2 * HOUR);
    trip(sources);
    await advance(0);

    expect(transitions).toEqual([['raised', 'circuit_breaker_trips', 'warning']]);
    expect(evaluator.alerts()).toHaveLength(1);
  });

  it('turns a throwing listener into an error event and keeps evaluating', async () => {
    const { sources, evaluator, transitions } = start();
    const errors: Error[] = [];
    evaluator.on('error', (error) => errors.push(error));
    evaluator.once('alert:raised', () => {
      throw new Error('pager down');
    });
    trip(sources);
    await advance(0);
    await advance(HOUR + 1000);

    expect(errors.map((e) => e.message)).toEqual(['pager down']);
    expect(transitions.at(-1)).toEqual(['resolved', 'circuit_breaker_trips', 'warning']);
  });
});
