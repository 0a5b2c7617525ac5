import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CircuitBreakerRegistry } from '../../src/breakers/CircuitBreakerRegistry.js';
import type { StatusThresholds } from '../../src/domain/status.js';
import { isValidationError, type ValidationError } from '../../src/errors/ValidationError.js';
import {
  ProviderHealthMonitor,
  type ProviderHealthMonitorOptions,
} from '../../src/health/ProviderHealthMonitor.js';
import { FAKE_TIMERS, createMonitor } from './support.js';

describe('ProviderHealthMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers(FAKE_TIMERS);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('close()', () => {
    it('leaves no timer behind', async () => {
      const { monitor, registry } = createMonitor({ intervalMs: 1000 });
      monitor.register('stripe', 'payment', () => true);
      monitor.register('twilio', 'sms', () => true, { intervalMs: 5000 });
      const breakerTimers = vi.getTimerCount();
      monitor.start();
      await vi.advanceTimersByTimeAsync(2500);
      expect(vi.getTimerCount()).toBeGreaterThan(breakerTimers);

      monitor.close();
      expect(vi.getTimerCount()).toBe(breakerTimers);

      registry.dispose();
      expect(vi.getTimerCount()).toBe(0);
    });

    it('may be called twice, and before start()', () => {
      const { monitor, registry } = createMonitor();
      monitor.register('stripe', 'payment', () => true);

      monitor.close();
      monitor.start();
      monitor.close();
      monitor.close();
      registry.dispose();

      expect(vi.getTimerCount()).toBe(0);
    });

    it('stops the checks, and start() resumes them', async () => {
      const { monitor, registry } = createMonitor({ intervalMs: 1000 });
      const check = vi.fn(() => true);
      monitor.register('stripe', 'payment', check);
      monitor.start();
      await vi.advanceTimersByTimeAsync(2000);

      monitor.close();
      await vi.advanceTimersByTimeAsync(5000);
      expect(check).toHaveBeenCalledTimes(2);

      monitor.start();
      await vi.advanceTimersByTimeAsync(1000);
      expect(check).toHaveBeenCalledTimes(3);
      monitor.close();
      registry.dispose();
    });

    it('follows breaker transitions again after a restart', async () => {
      const { monitor, registry, events } = createMonitor();
      monitor.register('stripe', 'payment');
      monitor.close();
      monitor.start();

      registry.get('stripe', 'payment')?.open();
      await Promise.resolve();

      expect(events.status).toEqual([expect.objectContaining({ to: 'unhealthy' })]);
      monitor.close();
      registry.dispose();
    });

    it('refuses toggles and resets without a store', async () => {
      const { monitor, registry } = createMonitor();
      const toggle = { provider: 'stripe', service: 'payment', reason: 'x', actor: 'ops' };

      await expect(monitor.toggle({ ...toggle, enabled: false })).rejects.toMatchObject({
        code: 'M28_NO_STORE',
      });
      await expect(monitor.resetBreaker(toggle)).rejects.toMatchObject({
        code: 'M28_NO_STORE',
      });
      registry.dispose();
    });
  });

  describe('options', () => {
    const construct = (options: Partial<ProviderHealthMonitorOptions>) => () =>
      new ProviderHealthMonitor({ registry: new CircuitBreakerRegistry(), ...options });
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(isValidationError(error)).toBe(true);

        return (error as ValidationError).field;
      }

      throw new Error('expected a ValidationError');
    };

    it.each([
      [{ intervalMs: 0 }, 'intervalMs'],
      [{ intervalMs: 2 ** 31 }, 'intervalMs'],
      [{ checkTimeoutMs: -1 }, 'checkTimeoutMs'],
      [{ maxConcurrentChecks: 0 }, 'maxConcurrentChecks'],
      [{ maxConcurrentChecks: 1.5 }, 'maxConcurrentChecks'],
      [{ successRateWindowMs: 0 }, 'successRateWindowMs'],
      [{ thresholds: { degradedBelowSuccessRate: 2 } }, 'thresholds.degradedBelowSuccessRate'],
      [{ thresholds: { unhealthyAfterFailedChecks: 0 } }, 'thresholds.unhealthyAfterFailedChecks'],
      [{ thresholds: { slowMs: 1 } }, 'thresholds.slowMs'],
    ])('refuses %j, naming %s', (options, field) => {
      expect(fieldOf(construct(options as Partial<ProviderHealthMonitorOptions>))).toBe(field);
    });

    it("refuses a provider's bad interval", () => {
      const { monitor, registry } = createMonitor();

      expect(
        fieldOf(() => monitor.register('stripe', 'payment', () => true, { intervalMs: 0 })),
      ).toBe('intervalMs');
      registry.dispose();
    });

    it('keeps the default for a threshold given as undefined', async () => {
      const thresholds = { degradedBelowSuccessRate: undefined } as unknown as StatusThresholds;
      const { monitor, registry } = createMonitor({ thresholds });
      monitor.register('stripe', 'payment');
      for (let i = 0; i < 20; i += 1) {
        await registry
          .fire('stripe', 'payment', () => (i < 2 ? Promise.reject(new Error()) : 1))
          .catch(() => undefined);
      }

      expect(monitor.health().providers[0]?.status).toBe('degraded');
      registry.dispose();
    });
  });
});
