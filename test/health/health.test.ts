import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { CircuitBreakerRegistry } from '../../src/breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../../src/health/ProviderHealthMonitor.js';
import { FAKE_TIMERS, createMonitor, sleep } from './support.js';

const INTERVAL_MS = 1000;

const PROVIDER_FIELDS = [
  'available',
  'circuit_breaker_next_attempt',
  'circuit_breaker_state',
  'enabled',
  'failure_count',
  'last_health_check',
  'maintenance_mode',
  'maintenance_until',
  'provider',
  'response_time_ms',
  'service_type',
  'stale',
  'status',
  'success_rate',
];

/** Calls `call` once per outcome, in order: true succeeds, false fails. */
async function callWith(registry: CircuitBreakerRegistry, outcomes: boolean[]) {
  for (const ok of outcomes) {
    await registry
      .fire('stripe', 'payment', () => (ok ? 'charged' : Promise.reject(new Error('502'))))
      .catch(() => undefined);
  }
}

/** `failures` failures among `calls`, the successes spread out: the breaker stays closed. */
function pattern(calls: number, failures: number): boolean[] {
  const successes = calls - failures;

  return Array.from(
    { length: calls },
    (_, i) => Math.floor(((i + 1) * successes) / calls) > Math.floor((i * successes) / calls),
  );
}

describe('ProviderHealthMonitor', () => {
  const created: { monitor: ProviderHealthMonitor; registry: CircuitBreakerRegistry }[] = [];
  const setup = (options: Parameters<typeof createMonitor>[0] = {}) => {
    const result = createMonitor({ intervalMs: INTERVAL_MS, ...options });
    created.push(result);

    return result;
  };

  beforeEach(() => {
    vi.useFakeTimers(FAKE_TIMERS);
    vi.setSystemTime(new Date('2024-01-15T10:30:00Z'));
  });

  afterEach(() => {
    for (const { monitor, registry } of created.splice(0)) {
      monitor.close();
      registry.dispose();
    }
    vi.useRealTimers();
  });

  describe('status from live calls', () => {
    it('turns unhealthy when most wrapped calls fail, and says so once', async () => {
      const { monitor, registry, events } = setup();
      monitor.register('stripe', 'payment');
      const outcomes = pattern(20, 14);
      expect(outcomes.filter((ok) => !ok)).toHaveLength(14);

      await callWith(registry, outcomes);
      monitor.evaluate();
      monitor.evaluate();

      expect(registry.get('stripe', 'payment')?.state).toBe('closed');
      expect(monitor.statusOf('stripe', 'payment')).toMatchObject({
        status: 'unhealthy',
        successRate: 0.3,
      });
      expect(events.status).toEqual([
        { provider: 'stripe', service: 'payment', from: 'healthy', to: 'unhealthy' },
      ]);
    });

    it('turns degraded below the degraded success rate, and healthy again', async () => {
      const { monitor, registry, events } = setup({ successRateWindowMs: 60_000 });
      monitor.register('stripe', 'payment');

      await callWith(registry, pattern(20, 2));
      expect(monitor.health().providers[0]?.status).toBe('degraded');

      // The window moves in tenths of its length.
      await vi.advanceTimersByTimeAsync(66_001);
      await callWith(registry, pattern(20, 0));
      expect(monitor.health().providers[0]?.status).toBe('healthy');
      expect(events.status.map(({ from, to }) => `${from}>${to}`)).toEqual([
        'healthy>degraded',
        'degraded>healthy',
      ]);
    });

    it('follows custom thresholds', async () => {
      const { monitor, registry } = setup({
        thresholds: { degradedBelowSuccessRate: 0.99, unhealthyBelowSuccessRate: 0.95 },
      });
      monitor.register('stripe', 'payment');

      await callWith(registry, pattern(20, 2));

      expect(monitor.health().providers[0]?.status).toBe('unhealthy');
    });

    it('turns unhealthy when the breaker opens, without waiting for a check', async () => {
      const { monitor, registry, events } = setup();
      monitor.register('stripe', 'payment');

      await callWith(registry, [false, false, false, false, false]);
      await Promise.resolve();

      expect(events.status).toEqual([expect.objectContaining({ to: 'unhealthy' })]);
    });

    it('does not judge one failed check by its success rate', async () => {
      const { monitor, registry } = setup();
      let up = true;
      monitor.register('stripe', 'payment', () => up);
      await callWith(registry, pattern(100, 0));
      monitor.evaluate();

      up = false;
      await monitor.check('stripe', 'payment');

      expect(monitor.statusOf('stripe', 'payment')?.status).toBe('degraded');
    });

    it('is degraded when responses are slow on average', async () => {
      const { monitor, registry } = setup({ thresholds: { degradedAboveResponseMs: 50 } });
      monitor.register('stripe', 'payment');

      const call = registry.fire('stripe', 'payment', () => sleep(120));
      await vi.advanceTimersByTimeAsync(120);
      await call;

      const [provider] = monitor.health().providers;
      expect(provider).toMatchObject({ status: 'degraded', response_time_ms: 120 });
    });

    it('is healthy again after a breaker reset clears the failed checks', async () => {
      const { monitor, registry } = setup();
      monitor.register('stripe', 'payment', () => false);
      for (let i = 0; i < 5; i += 1) {
        await monitor.check('stripe', 'payment');
      }
      expect(registry.get('stripe', 'payment')?.state).toBe('open');

      monitor.applyReset('stripe', 'payment', { origin: 'local', actor: 'ops' });

      expect(registry.get('stripe', 'payment')?.state).toBe('closed');
      expect(monitor.statusOf('stripe', 'payment')?.status).toBe('healthy');
    });
  });

  describe('health()', () => {
    it("answers the spec's Provider Health Response, every field in snake_case", async () => {
      const { monitor, registry } = setup();
      monitor.register('stripe', 'payment', async () => {
        await sleep(145);

        return true;
      });
      monitor.register('twilio', 'sms');
      const pending = monitor.check('stripe', 'payment');
      await vi.advanceTimersByTimeAsync(145);
      await pending;
      await callWith(registry, pattern(20, 0));

      const response = monitor.health();

      expect(Object.keys(response).sort()).toEqual(['providers', 'summary']);
      expect(response.providers).toHaveLength(2);
      const [stripe] = response.providers;
      expect(Object.keys(stripe ?? {}).sort()).toEqual(PROVIDER_FIELDS);
      expect(stripe).toEqual({
        provider: 'stripe',
        service_type: 'payment',
        status: 'healthy',
        circuit_breaker_state: 'closed',
        enabled: true,
        maintenance_mode: false,
        response_time_ms: expect.any(Number) as number,
        success_rate: 1,
        failure_count: 0,
        last_health_check: '2024-01-15T10:30:00.000Z',
        available: true,
        stale: false,
        maintenance_until: null,
        circuit_breaker_next_attempt: null,
      });
      expect(response.summary).toEqual({
        total_providers: 2,
        healthy: 2,
        degraded: 0,
        unhealthy: 0,
        maintenance: 0,
        disabled: 0,
      });
    });

    it('rounds the success rate to four places and counts failures', async () => {
      const { monitor, registry } = setup({ thresholds: { minCallsForSuccessRate: 1 } });
      monitor.register('stripe', 'payment');

      await callWith(registry, [true, true, false]);

      expect(monitor.health().providers[0]).toMatchObject({
        success_rate: 0.6667,
        failure_count: 1,
        status: 'degraded',
      });
    });

    it('counts each status in the summary', async () => {
      const { monitor, registry } = setup();
      for (const provider of ['a', 'b', 'c', 'd']) {
        monitor.register(provider, 'payment');
      }
      const off = { enabled: false, maintenanceMode: false, maintenanceUntil: null };
      monitor.applyToggle('b', 'payment', off, { origin: 'local' });
      monitor.applyToggle('c', 'payment', { ...off, maintenanceMode: true }, { origin: 'local' });
      registry.get('d', 'payment')?.open();

      const { providers, summary } = monitor.health();

      expect(providers.map((p) => [p.provider, p.status, p.available])).toEqual([
        ['a', 'healthy', true],
        ['b', 'disabled', false],
        ['c', 'maintenance', false],
        ['d', 'unhealthy', false],
      ]);
      expect(providers[3]?.circuit_breaker_next_attempt).toBe('2024-01-15T10:35:00.000Z');
      expect(summary).toEqual({
        total_providers: 4,
        healthy: 1,
        degraded: 0,
        unhealthy: 1,
        maintenance: 1,
        disabled: 1,
      });
    });

    it('filters by provider', () => {
      const { monitor } = setup();
      monitor.register('stripe', 'payment');
      monitor.register('stripe', 'refund');
      monitor.register('twilio', 'sms');

      const response = monitor.health({ provider: 'stripe' });

      expect(response.providers.map((p) => p.service_type)).toEqual(['payment', 'refund']);
      expect(response.summary.total_providers).toBe(2);
      expect(monitor.health({ provider: 'nobody' }).providers).toEqual([]);
    });

    it('reads stale for a provider with no check for two intervals', async () => {
      const { monitor } = setup();
      monitor.register('stripe', 'payment', () => true);
      monitor.register('twilio', 'sms');
      monitor.start();

      await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
      expect(monitor.health().providers.map((p) => p.stale)).toEqual([false, false]);

      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
      expect(monitor.health().providers.map((p) => p.stale)).toEqual([false, true]);
    });
  });
});
