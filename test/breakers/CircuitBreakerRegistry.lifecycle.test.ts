import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  CircuitBreakerRegistry,
  type CircuitBreakerRegistryOptions,
} from '../../src/breakers/CircuitBreakerRegistry.js';
import { BreakerOpenError } from '../../src/errors/provider.js';
import { ValidationError } from '../../src/errors/ValidationError.js';
import { failingCall, flushEventLoop, rejectionOf, settle } from './helpers.js';

const RESET_MS = 300_000;

describe('CircuitBreakerRegistry', () => {
  const registries: CircuitBreakerRegistry[] = [];
  const create = (options?: CircuitBreakerRegistryOptions) => {
    const registry = new CircuitBreakerRegistry(options);
    registries.push(registry);

    return registry;
  };
  const eventsOf = (registry: CircuitBreakerRegistry) => {
    const events: string[] = [];
    registry.on('breaker:open', () => events.push('open'));
    registry.on('breaker:half_open', () => events.push('half_open'));
    registry.on('breaker:close', () => events.push('close'));

    return events;
  };

  afterEach(() => {
    registries.splice(0).forEach((registry) => registry.dispose());
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  describe('restore()', () => {
    it('keeps a restored open breaker open until nextAttemptAt, without breaker:open', async () => {
      vi.useFakeTimers();
      const registry = create();
      const events = eventsOf(registry);
      const nextAttemptAt = new Date(Date.now() + 240_000);
      const openedAt = new Date(nextAttemptAt.getTime() - RESET_MS);
      const provider = vi.fn(async () => 'ok');

      registry.restore('stripe', 'payment', { state: 'open', openedAt, nextAttemptAt }, 5);
      const error = await rejectionOf(registry.fire('stripe', 'payment', provider));
      expect(error).toBeInstanceOf(BreakerOpenError);
      expect(error).toMatchObject({ state: 'open', nextAttemptAt });
      await vi.advanceTimersByTimeAsync(239_999);
      await settle(registry.fire('stripe', 'payment', provider));
      expect(provider).not.toHaveBeenCalled();

      await vi.advanceTimersByTimeAsync(1);
      expect(registry.get('stripe', 'payment')?.state).toBe('half_open');
      await expect(registry.fire('stripe', 'payment', provider)).resolves.toBe('ok');
      expect(events).toEqual(['half_open', 'close']);
    });

    it('allows one trial call after restoring half_open', async () => {
      vi.useFakeTimers();
      const registry = create();
      registry.restore('stripe', 'payment', { state: 'half_open', trialsInFlight: 1 }, 5);
      let release = () => {};
      const provider = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));

      const trial = registry.fire('stripe', 'payment', provider);
      await expect(registry.fire('stripe', 'payment', provider)).rejects.toMatchObject({
        code: 'M28_BREAKER_OPEN',
        state: 'half_open',
      });
      release();
      await trial;
      expect(provider).toHaveBeenCalledTimes(1);
      expect(registry.get('stripe', 'payment')?.state).toBe('closed');
    });

    it('round-trips toJSON() through restore(), also through JSON text', async () => {
      vi.useFakeTimers();
      const before = create();
      const call = before.wrap('stripe', 'payment', failingCall().fn);
      for (let i = 0; i < 5; i += 1) {
        await settle(call());
      }
      const saved = before.get('stripe', 'payment')!;
      const text = JSON.parse(JSON.stringify(saved)) as ReturnType<typeof saved.toJSON>;

      const after = create();
      after.restore('stripe', 'payment', text.circuit, text.consecutiveFailures);
      after.restore('stripe', 'refund', saved.toJSON().circuit, 5);
      expect(after.get('stripe', 'payment')?.toJSON()).toEqual(saved.toJSON());
      expect(after.get('stripe', 'refund')?.circuit).toEqual(saved.circuit);
    });

    it('refuses a malformed stored state', () => {
      const registry = create();
      const bad = { state: 'open', openedAt: new Date(), nextAttemptAt: 'soon' } as const;

      expect(() => registry.restore('stripe', 'payment', bad, 5)).toThrow(ValidationError);
      expect(() => registry.restore('stripe', 'payment', { state: 'closed' }, -1)).toThrow(
        /consecutiveFailures/,
      );
    });

    it('waits out a nextAttemptAt beyond the 24.8-day timer limit', async () => {
      vi.useFakeTimers();
      // A long statistics window keeps opossum's bucket timer from ticking millions of times.
      const registry = create({ defaults: { rollingWindowMs: 2_000_000_000 } });
      const thirtyDays = 30 * 86_400_000;
      const now = Date.now();
      const nextAttemptAt = new Date(now + thirtyDays);

      registry.restore('stripe', 'payment', { state: 'open', openedAt: now, nextAttemptAt }, 5);
      await vi.advanceTimersByTimeAsync(thirtyDays - 1);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');

      await vi.advanceTimersByTimeAsync(1);
      expect(registry.get('stripe', 'payment')?.state).toBe('half_open');
    });
  });

  describe('dispose()', () => {
    it('removes one breaker, one provider, or all of them', () => {
      const registry = create();
      registry.register('stripe', 'payment');
      registry.register('stripe', 'refund');
      registry.register('twilio', 'sms');
      registry.register('fcm', 'push');

      registry.dispose('stripe', 'payment');
      expect(registry.list().map((b) => `${b.provider}/${b.service}`)).toEqual([
        'stripe/refund',
        'twilio/sms',
        'fcm/push',
      ]);
      registry.dispose('twilio');
      expect(registry.list().map((b) => b.provider)).toEqual(['stripe', 'fcm']);
      registry.dispose();
      expect(registry.list()).toEqual([]);
    });

    it('leaves no timer, listener or warning after 10,000 opened breakers', async () => {
      vi.useFakeTimers();
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const registry = create();
        registry.on('breaker:open', () => {});
        const listeners = () => registry.eventNames().map((n) => registry.listenerCount(n));
        const before = listeners();

        for (let i = 0; i < 10_000; i += 1) {
          registry.register('stripe', `service-${i}`).open();
        }
        expect(vi.getTimerCount()).toBeGreaterThanOrEqual(10_000);
        registry.dispose();
        await flushEventLoop();

        expect(vi.getTimerCount()).toBe(0);
        expect(registry.list()).toEqual([]);
        expect(listeners()).toEqual(before);
        expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('lets a wrapper start a fresh breaker after its breaker is disposed', async () => {
      vi.useFakeTimers();
      const registry = create();
      const charge = registry.wrap('stripe', 'payment', async (amount: number) => amount);
      registry.get('stripe', 'payment')!.open();

      registry.dispose('stripe', 'payment');
      await expect(charge(5)).resolves.toBe(5);
      expect(registry.get('stripe', 'payment')?.state).toBe('closed');
    });
  });

  it("unrefs an open breaker's half-open timer", () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const registry = create();
    registry.register('stripe', 'payment').open();

    const timers = setTimeoutSpy.mock.calls
      .map((call, i) => ({ delay: call[1], timer: setTimeoutSpy.mock.results[i]?.value }))
      // The delay is computed from the clock, which may tick between open() and the timer.
      .filter(
        ({ delay }) => typeof delay === 'number' && delay <= RESET_MS && delay > RESET_MS - 1000,
      );
    expect(timers).toHaveLength(1);
    expect((timers[0]?.timer as NodeJS.Timeout).hasRef()).toBe(false);
  });

  it('settles the call when a breaker:open listener throws, and rethrows on its own', async () => {
    const registry = create();
    const listenerError = new Error('listener bug');
    registry.on('breaker:open', () => {
      throw listenerError;
    });
    const queued: (() => void)[] = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => queued.push(task));
    const down = new Error('provider down');
    const call = registry.wrap('stripe', 'payment', failingCall(down).fn);

    for (let i = 0; i < 5; i += 1) {
      expect(await rejectionOf(call())).toBe(down);
    }
    vi.mocked(queueMicrotask).mockRestore();

    expect(registry.get('stripe', 'payment')?.state).toBe('open');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toThrow(listenerError);
  });
});
