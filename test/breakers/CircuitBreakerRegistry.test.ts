import CircuitBreaker from 'opossum';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';

import {
  CircuitBreakerRegistry,
  type BreakerOpenEvent,
  type CircuitBreakerRegistryOptions,
} from '../../src/breakers/CircuitBreakerRegistry.js';
import {
  BreakerOpenError,
  ProviderDisabledError,
  ProviderInMaintenanceError,
  ProviderTimeoutError,
} from '../../src/errors/provider.js';
import { ValidationError } from '../../src/errors/ValidationError.js';
import { failingCall, rejectionOf, settle } from './helpers.js';

describe('CircuitBreakerRegistry', () => {
  let registry: CircuitBreakerRegistry;
  const create = (options?: CircuitBreakerRegistryOptions) => {
    registry = new CircuitBreakerRegistry(options);

    return registry;
  };

  /** Fails stripe/payment-style calls `times` times, one after the other. */
  async function failTimes(provider: string, service: string, times: number): Promise<void> {
    const call = registry.wrap(provider, service, failingCall().fn);
    for (let i = 0; i < times; i += 1) {
      await settle(call());
    }
  }

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    registry.dispose();
    vi.useRealTimers();
  });

  describe('failure threshold', () => {
    it('opens after five consecutive failures, not after four', async () => {
      create();
      const opened: BreakerOpenEvent[] = [];
      registry.on('breaker:open', (event) => opened.push(event));

      await failTimes('stripe', 'payment', 4);
      expect(registry.get('stripe', 'payment')?.state).toBe('closed');

      await failTimes('stripe', 'payment', 1);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');
      expect(opened).toEqual([
        {
          provider: 'stripe',
          service: 'payment',
          failures: 5,
          openedAt: new Date(Date.now()),
          nextAttemptAt: new Date(Date.now() + 300_000),
          shared: false,
        },
      ]);
    });

    it('starts counting again after a success', async () => {
      create();
      await failTimes('stripe', 'payment', 4);
      await registry.fire('stripe', 'payment', async () => 'ok');

      await failTimes('stripe', 'payment', 4);
      expect(registry.get('stripe', 'payment')?.state).toBe('closed');

      await failTimes('stripe', 'payment', 1);
      expect(registry.get('stripe', 'payment')?.state).toBe('open');
    });

    it('takes overrides per provider, and per provider and service first', async () => {
      create({
        providers: {
          stripe: { failureThreshold: 2, timeoutMs: 5000 },
          'stripe/payment': { failureThreshold: 3 },
        },
      });

      for (const [provider, service, threshold] of [
        ['stripe', 'payment', 3],
        ['stripe', 'refund', 2],
        ['twilio', 'sms', 5],
      ] as const) {
        await failTimes(provider, service, threshold - 1);
        expect(registry.get(provider, service)?.state).toBe('closed');
        await failTimes(provider, service, 1);
        expect(registry.get(provider, service)?.state).toBe('open');
      }
      expect(registry.get('stripe', 'payment')?.options).toMatchObject({
        failureThreshold: 3,
        timeoutMs: 5000,
      });
    });
  });

  describe('wrap() and fire()', () => {
    it('keeps the argument and result types of the wrapped function', async () => {
      create();
      const charge = registry.wrap(
        'stripe',
        'payment',
        async (amount: number, currency: string) => ({
          id: 'ch_1',
          amount,
          currency,
        }),
      );
      const double = registry.wrap('stripe', 'payment', (n: number) => n * 2);

      expectTypeOf(charge).parameters.toEqualTypeOf<[number, string]>();
      expectTypeOf(charge).returns.toEqualTypeOf<
        Promise<{ id: string; amount: number; currency: string }>
      >();
      expectTypeOf(double).returns.toEqualTypeOf<Promise<number>>();
      expectTypeOf(registry.fire('stripe', 'payment', () => 'x')).toEqualTypeOf<Promise<string>>();
      // @ts-expect-error: the amount is a number
      void settle(charge('100', 'usd'));

      await expect(charge(100, 'usd')).resolves.toEqual({
        id: 'ch_1',
        amount: 100,
        currency: 'usd',
      });
      await expect(double(21)).resolves.toBe(42);
    });

    it('sends fire() through the same breaker as wrap()', async () => {
      create();
      const breaker = registry.register('stripe', 'payment');
      await failTimes('stripe', 'payment', 5);
      const provider = vi.fn(async () => 'ok');

      const error = await rejectionOf(registry.fire('stripe', 'payment', provider));
      expect(error).toBeInstanceOf(BreakerOpenError);
      expect(provider).not.toHaveBeenCalled();
      expect(registry.get('stripe', 'payment')).toBe(breaker);
      expect(registry.list()).toHaveLength(1);
    });
  });

  describe('failure burst', () => {
    it('emits one breaker:open for 200 simultaneous failures, then half-opens', async () => {
      create();
      const events: string[] = [];
      registry.on('breaker:open', () => events.push('open'));
      registry.on('breaker:half_open', () => events.push('half_open'));
      const provider = failingCall();
      const call = registry.wrap('stripe', 'payment', provider.fn);

      const outcomes = await Promise.all(Array.from({ length: 200 }, () => settle(call())));
      expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
      expect(provider.count).toBe(200);
      expect(events).toEqual(['open']);

      await vi.advanceTimersByTimeAsync(300_000);
      expect(events).toEqual(['open', 'half_open']);
      expect(registry.get('stripe', 'payment')?.state).toBe('half_open');
    });
  });

  describe('operator access', () => {
    it('blocks a disabled provider without calling it', async () => {
      create();
      const provider = vi.fn(async () => 'ok');
      const call = registry.wrap('stripe', 'payment', provider);
      registry.setAccess('stripe', 'payment', { kind: 'disabled' });

      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(ProviderDisabledError);
      expect(error).toMatchObject({ provider: 'stripe', service: 'payment', state: 'closed' });
      expect(provider).not.toHaveBeenCalled();

      registry.setAccess('stripe', 'payment', { kind: 'enabled' });
      await expect(call()).resolves.toBe('ok');
      expect(provider).toHaveBeenCalledTimes(1);
    });

    it('blocks a provider in maintenance and says until when', async () => {
      create();
      const until = new Date(Date.now() + 3_600_000);
      registry.setAccess('stripe', 'payment', { kind: 'maintenance', until });
      const provider = vi.fn(async () => 'ok');

      const error = await rejectionOf(registry.fire('stripe', 'payment', provider));
      expect(error).toBeInstanceOf(ProviderInMaintenanceError);
      expect(error).toMatchObject({ code: 'M28_PROVIDER_IN_MAINTENANCE', maintenanceUntil: until });
      expect(provider).not.toHaveBeenCalled();
    });

    it('applies access set before the breaker exists, and keeps it across dispose', async () => {
      create();
      registry.setAccess('stripe', 'payment', { kind: 'disabled' });
      const provider = vi.fn(async () => 'ok');
      const call = registry.wrap('stripe', 'payment', provider);

      await expect(call()).rejects.toBeInstanceOf(ProviderDisabledError);
      registry.dispose('stripe', 'payment');
      await expect(call()).rejects.toBeInstanceOf(ProviderDisabledError);
      expect(provider).not.toHaveBeenCalled();
    });

    it("blocks calls where opossum's own disable() passes them through", async () => {
      create();
      const provider = vi.fn(async () => 'ok');
      const raw = new CircuitBreaker(provider);
      raw.disable();
      await raw.fire();
      raw.shutdown();
      expect(provider).toHaveBeenCalledTimes(1);

      registry.setAccess('stripe', 'payment', { kind: 'disabled' });
      await settle(registry.fire('stripe', 'payment', provider));
      expect(provider).toHaveBeenCalledTimes(1);
    });
  });

  describe('fallback', () => {
    it('answers failed, open, disabled and maintenance calls with their arguments', async () => {
      const fallback = vi.fn((_error: unknown, ...args: unknown[]) => `fallback:${args.join(',')}`);
      create({ defaults: { fallback, timeoutMs: 1000 } });
      const down = new Error('provider down');
      const charge = registry.wrap(
        'stripe',
        'payment',
        async (amount: number, currency: string) => {
          if (amount < 0) {
            return new Promise<string>(() => {});
          }
          throw down;
        },
      );

      await expect(charge(100, 'usd')).resolves.toBe('fallback:100,usd');
      const slow = charge(-1, 'eur');
      await vi.advanceTimersByTimeAsync(1000);
      await expect(slow).resolves.toBe('fallback:-1,eur');
      for (let i = 0; i < 3; i += 1) {
        await charge(1, 'usd');
      }
      await expect(charge(200, 'gbp')).resolves.toBe('fallback:200,gbp');
      registry.setAccess('stripe', 'payment', { kind: 'disabled' });
      await charge(300, 'usd');
      registry.setAccess('stripe', 'payment', { kind: 'maintenance', until: undefined });
      await charge(400, 'usd');

      const calls = fallback.mock.calls;
      expect(calls[0]).toEqual([down, 100, 'usd']);
      expect(calls[1]?.[0]).toBeInstanceOf(ProviderTimeoutError);
      expect(calls[5]?.[0]).toBeInstanceOf(BreakerOpenError);
      expect(calls[5]?.slice(1)).toEqual([200, 'gbp']);
      expect(calls[6]?.[0]).toBeInstanceOf(ProviderDisabledError);
      expect(calls[7]?.[0]).toBeInstanceOf(ProviderInMaintenanceError);
      expect(calls.flat().some((arg) => typeof arg === 'function')).toBe(false);
    });

    it('types a wrap() fallback by the wrapped function, and answers with it', async () => {
      create();
      const quote = registry.wrap(
        'fx',
        'rates',
        async (from: string, to: string): Promise<{ rate: number }> => {
          throw new Error(`no rate for ${from}${to}`);
        },
        { fallback: (_error, from, to) => ({ rate: from === to ? 1 : 0 }) },
      );

      await expect(quote('usd', 'usd')).resolves.toEqual({ rate: 1 });
      // @ts-expect-error: the fallback must answer with the wrapped function's result
      registry.wrap('fx', 'other', async () => ({ rate: 1 }), { fallback: () => 'cached' });
      // @ts-expect-error: the fallback takes the wrapped function's arguments
      registry.wrap('fx', 'more', async (n: number) => n, { fallback: (_e, s: string) => 1 });
    });

    it('keeps a wrap() fallback to its own wrapper, whoever created the breaker', async () => {
      const breakerFallback = vi.fn(() => 'breaker');
      create({ defaults: { fallback: breakerFallback, failureThreshold: 100 } });
      const down = async (..._args: unknown[]): Promise<string> => {
        throw new Error('provider down');
      };
      const charge = registry.wrap('stripe', 'payment', down, {
        fallback: (_error, amount) => `charge:${String(amount)}`,
      });
      const refund = registry.wrap('stripe', 'payment', down, {
        fallback: (_error, id) => `refund:${String(id)}`,
      });
      const plain = registry.wrap('stripe', 'payment', down);

      await expect(charge(100)).resolves.toBe('charge:100');
      await expect(refund('re_1')).resolves.toBe('refund:re_1');
      await expect(plain()).resolves.toBe('breaker');
      await expect(registry.fire('stripe', 'payment', down)).resolves.toBe('breaker');
      expect(breakerFallback).toHaveBeenCalledTimes(2);

      // Refused calls too: each wrapper answers with its own.
      registry.get('stripe', 'payment')!.open();
      await expect(charge(5)).resolves.toBe('charge:5');
      await expect(plain()).resolves.toBe('breaker');
    });

    it('checks wrap() options even when the breaker exists, and changes nothing', () => {
      create();
      registry.wrap('stripe', 'payment', async () => 1);

      const wrapBadly = () =>
        registry.wrap('stripe', 'payment', async () => 1, { fallback: 'cached' as never });

      expect(wrapBadly).toThrow(ValidationError);
      expect(wrapBadly).toThrow(expect.objectContaining({ field: 'options.fallback' }));
      expect(registry.list()).toHaveLength(1);
    });

    it('leaves errors the filter lets through to the caller', async () => {
      const decline = Object.assign(new Error('card declined'), { status: 402 });
      const fallback = vi.fn(() => 'fallback');
      create({ defaults: { fallback, errorFilter: (error) => error === decline } });

      const error = await rejectionOf(registry.fire('stripe', 'payment', failingCall(decline).fn));
      expect(error).toBe(decline);
      expect(fallback).not.toHaveBeenCalled();
    });
  });
});
