import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { CircuitBreakerRegistry } from '../../src/breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../../src/health/ProviderHealthMonitor.js';
import { FAKE_TIMERS, createMonitor, hangingCheck, sleep } from './support.js';

const INTERVAL_MS = 1000;
const RESET_MS = 10_000;

describe('ProviderHealthMonitor', () => {
  const cleanups: { monitor: ProviderHealthMonitor; registry: CircuitBreakerRegistry }[] = [];
  const setup = (options: Parameters<typeof createMonitor>[0] = {}) => {
    const created = createMonitor({
      intervalMs: INTERVAL_MS,
      breakers: { resetTimeoutMs: RESET_MS },
      ...options,
    });
    cleanups.push(created);

    return created;
  };

  beforeEach(() => {
    vi.useFakeTimers(FAKE_TIMERS);
  });

  afterEach(() => {
    for (const { monitor, registry } of cleanups.splice(0)) {
      monitor.close();
      registry.dispose();
    }
    vi.useRealTimers();
  });

  describe('check schedule', () => {
    it('checks nothing before start()', async () => {
      const { monitor } = setup();
      const check = vi.fn(() => true);
      monitor.register('stripe', 'payment', check);

      await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);

      expect(check).not.toHaveBeenCalled();
    });

    it('checks once per interval after start(), none before the first interval', async () => {
      const { monitor, events } = setup();
      const check = vi.fn(() => true);
      monitor.register('stripe', 'payment', check);
      monitor.start();

      await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
      expect(check).not.toHaveBeenCalled();

      await vi.advanceTimersByTimeAsync(1);
      expect(check).toHaveBeenCalledTimes(1);

      await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
      expect(check).toHaveBeenCalledTimes(4);
      expect(events.checked.map((r) => r.passed)).toEqual([true, true, true, true]);
    });

    it('checks each provider on its own interval', async () => {
      const { monitor } = setup();
      const fast = vi.fn(() => true);
      const slow = vi.fn(() => true);
      monitor.register('stripe', 'payment', fast);
      monitor.register('twilio', 'sms', slow, { intervalMs: 3 * INTERVAL_MS });
      monitor.start();

      await vi.advanceTimersByTimeAsync(6 * INTERVAL_MS);

      expect(fast).toHaveBeenCalledTimes(6);
      expect(slow).toHaveBeenCalledTimes(2);
    });

    it('starts once however often start() is called', async () => {
      const { monitor } = setup();
      const check = vi.fn(() => true);
      monitor.register('stripe', 'payment', check);
      monitor.start();
      monitor.start();

      await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);

      expect(check).toHaveBeenCalledTimes(2);
    });

    it('reports a passing check with only the result fields', async () => {
      const { monitor } = setup();
      monitor.register('stripe', 'payment', () => ({ ok: true }));

      const result = await monitor.check('stripe', 'payment');

      expect(Object.keys(result).sort()).toEqual(
        ['at', 'available', 'passed', 'provider', 'responseTimeMs', 'service'].sort(),
      );
      expect(result).toMatchObject({ provider: 'stripe', service: 'payment', passed: true });
      expect(result.available).toBe(true);
    });

    it.each([
      ['throws', () => Promise.reject(Object.assign(new Error('x'), { code: 'ECONNRESET' }))],
      ['resolves false', () => false],
      ['resolves { ok: false }', () => ({ ok: false })],
    ])('fails a check that %s', async (_, check) => {
      const { monitor } = setup();
      monitor.register('stripe', 'payment', check);

      const result = await monitor.check('stripe', 'payment');

      expect(result).toMatchObject({ passed: false, available: false, responseTimeMs: null });
      expect(result.reason).toMatch(/^(ECONNRESET|unhealthy)$/);
    });
  });

  describe('checks through the breaker', () => {
    it('opens the breaker after five failing checks, then stops calling the check', async () => {
      const { monitor, registry, events } = setup();
      const check = vi.fn(() => Promise.reject(new Error('provider down')));
      monitor.register('stripe', 'payment', check);
      const opened = vi.fn();
      registry.on('breaker:open', opened);
      monitor.start();

      await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
      expect(check).toHaveBeenCalledTimes(5);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');
      expect(opened).toHaveBeenCalledTimes(1);

      await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
      expect(check).toHaveBeenCalledTimes(5);
      expect(events.checked.slice(5)).toHaveLength(3);
      for (const result of events.checked.slice(5)) {
        expect(result).toMatchObject({ available: false, reason: 'circuit_breaker_open' });
      }
    });

    it('closes the half-open breaker when a check passes after the reset timeout', async () => {
      const { monitor, registry, events } = setup();
      let up = false;
      const check = vi.fn(() => (up ? true : Promise.reject(new Error('down'))));
      monitor.register('stripe', 'payment', check);
      monitor.start();
      await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');

      up = true;
      await vi.advanceTimersByTimeAsync(RESET_MS - INTERVAL_MS);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');
      expect(check).toHaveBeenCalledTimes(5);

      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
      expect(check).toHaveBeenCalledTimes(6);
      expect(registry.get('stripe', 'payment')?.state).toBe('closed');
      expect(monitor.statusOf('stripe', 'payment')?.status).toBe('healthy');
      expect(events.status.map(({ from, to }) => `${from}>${to}`)).toEqual([
        'healthy>degraded',
        'degraded>unhealthy',
        'unhealthy>healthy',
      ]);
    });

    it('does not count checks refused while disabled as failed checks', async () => {
      const { monitor } = setup();
      const check = vi.fn(() => true);
      monitor.register('stripe', 'payment', check);
      const state = { enabled: false, maintenanceMode: false, maintenanceUntil: null };
      monitor.applyToggle('stripe', 'payment', state, { origin: 'local' });

      for (let i = 0; i < 4; i += 1) {
        expect((await monitor.check('stripe', 'payment')).reason).toBe('disabled');
      }
      monitor.applyToggle('stripe', 'payment', { ...state, enabled: true }, { origin: 'local' });

      expect(check).not.toHaveBeenCalled();
      expect(monitor.statusOf('stripe', 'payment')).toMatchObject({
        status: 'healthy',
        failedChecksInARow: 0,
      });
    });

    it('reports a check a fallback answered for as failed, not passed', async () => {
      const { monitor, registry } = setup({ breakers: { fallback: () => 'cached' } });
      monitor.register('stripe', 'payment', () => Promise.reject(new Error('down')));

      expect((await monitor.check('stripe', 'payment')).passed).toBe(false);

      registry.get('stripe', 'payment')?.open();
      const refused = await monitor.check('stripe', 'payment');
      expect(refused).toMatchObject({ passed: false, reason: 'circuit_breaker_open' });
    });
  });

  describe('check bounds', () => {
    it('fails a check that never settles with timeout, and aborts its signal', async () => {
      const { monitor } = setup({ checkTimeoutMs: 500 });
      const hanging = hangingCheck();
      monitor.register('stripe', 'payment', hanging.check);

      const pending = monitor.check('stripe', 'payment');
      await vi.advanceTimersByTimeAsync(499);
      expect(hanging.signals[0]?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);

      expect(await pending).toMatchObject({ passed: false, reason: 'timeout' });
      expect(hanging.signals[0]?.aborted).toBe(true);
    });

    it('aborts the signal when the breaker times the check out first', async () => {
      const { monitor } = setup({ checkTimeoutMs: 60_000, breakers: { timeoutMs: 200 } });
      const hanging = hangingCheck();
      monitor.register('stripe', 'payment', hanging.check);

      const pending = monitor.check('stripe', 'payment');
      await vi.advanceTimersByTimeAsync(200);

      expect(await pending).toMatchObject({ passed: false, reason: 'timeout' });
      expect(hanging.signals[0]?.aborted).toBe(true);
    });

    it('runs at most maxConcurrentChecks checks at once', async () => {
      const { monitor } = setup({ maxConcurrentChecks: 2 });
      let running = 0;
      let most = 0;
      const slow = async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(1000);
        running -= 1;

        return true;
      };
      for (let i = 0; i < 6; i += 1) {
        monitor.register(`provider${i}`, 'payment', slow);
      }

      const all = monitor.checkAll();
      await vi.advanceTimersByTimeAsync(1000);
      expect(running).toBe(2);
      await vi.advanceTimersByTimeAsync(2000);
      const results = await all;

      expect(most).toBe(2);
      expect(results.map((r) => r.passed)).toEqual([true, true, true, true, true, true]);
    });

    it('does not queue another check of a provider while its last one runs', async () => {
      const { monitor } = setup({ maxConcurrentChecks: 2, checkTimeoutMs: 60_000 });
      let running = 0;
      let most = 0;
      const slow = vi.fn(async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(3500);
        running -= 1;

        return true;
      });
      for (let i = 0; i < 6; i += 1) {
        monitor.register(`provider${i}`, 'payment', slow);
      }
      monitor.start();
      await vi.advanceTimersByTimeAsync(20 * INTERVAL_MS);
      const beforeClose = slow.mock.calls.length;

      monitor.close();
      await vi.advanceTimersByTimeAsync(60 * INTERVAL_MS);

      expect(most).toBe(2);
      // At most one check per provider was waiting: no backlog of 20 ticks runs after close.
      expect(slow.mock.calls.length - beforeClose).toBeLessThanOrEqual(6);
      expect(running).toBe(0);
    });
  });
});
