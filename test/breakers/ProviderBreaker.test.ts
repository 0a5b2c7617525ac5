import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ProviderBreaker } from '../../src/breakers/ProviderBreaker.js';
import {
  BreakerOpenError,
  ProviderTimeoutError,
  isBreakerOpenError,
  isProviderCallError,
  isProviderTimeoutError,
} from '../../src/errors/provider.js';
import {
  createBreaker,
  deferred,
  failingCall,
  fireTimes,
  flushEventLoop,
  rejectionOf,
  settle,
} from './helpers.js';

const RESET_MS = 300_000;

describe('ProviderBreaker', () => {
  const breakers: ProviderBreaker[] = [];
  const track = (created: ReturnType<typeof createBreaker>) => {
    breakers.push(created.breaker);

    return created;
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    breakers.splice(0).forEach((breaker) => breaker.dispose());
    vi.useRealTimers();
  });

  describe('half-open', () => {
    it.each([1, 3])('lets exactly %i of 100 concurrent calls reach the provider', async (max) => {
      const { breaker } = track(createBreaker(max === 1 ? {} : { halfOpenMaxCalls: max }));
      breaker.open();
      await vi.advanceTimersByTimeAsync(RESET_MS);
      expect(breaker.state).toBe('half_open');

      const trial = deferred<string>();
      let reached = 0;
      const provider = () => {
        reached += 1;

        return trial.promise;
      };
      const calls = Array.from({ length: 100 }, () => settle(breaker.fire(provider, [])));
      expect(reached).toBe(max);

      trial.resolve('ok');
      const outcomes = await Promise.all(calls);
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused).toHaveLength(100 - max);
      for (const outcome of refused) {
        expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(BreakerOpenError);
        expect(outcome).toMatchObject({ reason: { state: 'half_open' } });
      }
    });

    it('closes when a trial succeeds', async () => {
      const { breaker, transitions } = track(createBreaker());
      breaker.open();
      await vi.advanceTimersByTimeAsync(RESET_MS);

      await expect(breaker.fire(async () => 'ok', [])).resolves.toBe('ok');
      expect(breaker.state).toBe('closed');
      expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open', 'closed']);
      expect(transitions[2]).toEqual({ to: 'closed', reason: 'trial_succeeded' });
    });

    it('reopens with a fresh nextAttemptAt when a trial fails', async () => {
      const { breaker } = track(createBreaker());
      const openedAt = Date.now();
      breaker.open();
      expect(breaker.circuit).toMatchObject({ nextAttemptAt: new Date(openedAt + RESET_MS) });
      await vi.advanceTimersByTimeAsync(RESET_MS);

      await settle(breaker.fire(failingCall().fn, []));
      expect(breaker.circuit).toEqual({
        state: 'open',
        openedAt: new Date(openedAt + RESET_MS),
        nextAttemptAt: new Date(openedAt + 2 * RESET_MS),
      });

      await vi.advanceTimersByTimeAsync(RESET_MS);
      expect(breaker.state).toBe('half_open');
    });
  });

  describe('reset timeout', () => {
    it('reaches half_open after resetTimeoutMs and not before', async () => {
      const { breaker, transitions } = track(createBreaker());
      const provider = failingCall();
      await fireTimes(breaker, provider.fn, 5);
      expect(breaker.state).toBe('open');

      await vi.advanceTimersByTimeAsync(RESET_MS - 1);
      expect(breaker.state).toBe('open');
      const early = await rejectionOf(breaker.fire(provider.fn, []));
      expect(early).toMatchObject({ code: 'M28_BREAKER_OPEN', state: 'open' });
      expect(provider.count).toBe(5);

      await vi.advanceTimersByTimeAsync(1);
      expect(breaker.state).toBe('half_open');
      expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open']);
    });
  });

  describe('error filter', () => {
    it('passes filtered errors to the caller without ever opening', async () => {
      const decline = Object.assign(new Error('card declined'), { status: 402 });
      const { breaker } = track(
        createBreaker({ errorFilter: (error) => (error as { status?: number }).status === 402 }),
      );

      for (let i = 0; i < 20; i += 1) {
        expect(await rejectionOf(breaker.fire(failingCall(decline).fn, []))).toBe(decline);
      }
      expect(breaker.state).toBe('closed');
      expect(breaker.snapshot().consecutiveFailures).toBe(0);

      await fireTimes(breaker, failingCall().fn, 5);
      expect(breaker.state).toBe('open');
    });
  });

  describe('timeouts', () => {
    it('rejects a slow call with ProviderTimeoutError and counts a failure', async () => {
      const { breaker } = track(createBreaker({ timeoutMs: 1000 }));
      const call = settle(breaker.fire(() => new Promise(() => {}), []));
      await vi.advanceTimersByTimeAsync(999);
      expect(breaker.snapshot().counters.failures).toBe(0);

      await vi.advanceTimersByTimeAsync(1);
      const outcome = await call;
      const error = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(error).toBeInstanceOf(ProviderTimeoutError);
      expect(error).toMatchObject({
        code: 'M28_PROVIDER_TIMEOUT',
        provider: 'stripe',
        service: 'payment',
        timeoutMs: 1000,
        cause: { code: 'ETIMEDOUT' },
      });
      expect(breaker.snapshot()).toMatchObject({
        consecutiveFailures: 1,
        counters: { failures: 1, timeouts: 1 },
      });
    });

    it('opens after five timeouts', async () => {
      const { breaker } = track(createBreaker({ timeoutMs: 1000 }));
      for (let i = 0; i < 5; i += 1) {
        const call = settle(breaker.fire(() => new Promise(() => {}), []));
        await vi.advanceTimersByTimeAsync(1000);
        await call;
      }

      expect(breaker.state).toBe('open');
    });

    it("passes a provider's own ETIMEDOUT error through unchanged", async () => {
      const socketTimeout = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
      const { breaker } = track(createBreaker({ timeoutMs: 1000 }));

      const error = await rejectionOf(breaker.fire(failingCall(socketTimeout).fn, []));
      expect(error).toBe(socketTimeout);
      expect(isProviderTimeoutError(error)).toBe(false);
      expect(breaker.snapshot().counters).toMatchObject({ failures: 1, timeouts: 0 });
    });

    it('translates errors by code and identity, never by message', async () => {
      const lookalike = new Error('Timed out after 1000ms');
      const { breaker } = track(createBreaker({ timeoutMs: 1000 }));

      expect(await rejectionOf(breaker.fire(failingCall(lookalike).fn, []))).toBe(lookalike);
      expect(isProviderCallError(lookalike)).toBe(false);
      expect(isBreakerOpenError(new Error('circuit breaker for stripe/payment is open'))).toBe(
        false,
      );
    });

    it('never times out a call when timeoutMs is false', async () => {
      const { breaker } = track(createBreaker({ timeoutMs: false }));
      const answer = deferred<string>();
      const call = settle(breaker.fire(() => answer.promise, []));
      await vi.advanceTimersByTimeAsync(3_600_000);
      answer.resolve('late but fine');

      expect(await call).toEqual({ status: 'fulfilled', value: 'late but fine' });
    });

    it('leaves no unhandled rejection when the call rejects after its timeout', async () => {
      const unhandled = vi.fn();
      process.on('unhandledRejection', unhandled);
      try {
        const { breaker } = track(createBreaker({ timeoutMs: 1000, failureThreshold: 2 }));
        const late = () =>
          new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 5000));
        const calls = [settle(breaker.fire(late, [])), settle(breaker.fire(late, []))];
        await vi.advanceTimersByTimeAsync(1000);
        calls.push(settle(breaker.fire(late, [])));
        await vi.advanceTimersByTimeAsync(10_000);
        await flushEventLoop();

        const outcomes = await Promise.all(calls);
        expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).name)).toEqual([
          'ProviderTimeoutError',
          'ProviderTimeoutError',
          'BreakerOpenError',
        ]);
        expect(unhandled).not.toHaveBeenCalled();
      } finally {
        process.off('unhandledRejection', unhandled);
      }
    });
  });

  describe('counters', () => {
    it('adds fires up to successes, failures and rejects, timeouts within failures', async () => {
      const decline = Object.assign(new Error('card declined'), { status: 402 });
      const { breaker } = track(
        createBreaker({
          failureThreshold: 3,
          timeoutMs: 1000,
          errorFilter: (error) => error === decline,
        }),
      );
      const ok = async () => 'ok';

      await fireTimes(breaker, ok, 3);
      await fireTimes(breaker, failingCall().fn, 1);
      await fireTimes(breaker, failingCall(decline).fn, 1);
      await fireTimes(breaker, failingCall().fn, 1);
      const slow = settle(breaker.fire(() => new Promise(() => {}), []));
      await vi.advanceTimersByTimeAsync(1000);
      await slow;
      // The decline did not reset the count: failure, decline, failure, timeout opens it.
      expect(breaker.state).toBe('open');
      await fireTimes(breaker, failingCall().fn, 1);
      await fireTimes(breaker, ok, 2);
      breaker.setAccess({ kind: 'disabled' });
      await fireTimes(breaker, ok, 1);

      const { counters } = breaker.snapshot();
      expect(counters).toMatchObject({
        fires: 11,
        successes: 4,
        failures: 3,
        timeouts: 1,
        rejects: 4,
      });
      expect(counters.successes + counters.failures + counters.rejects).toBe(counters.fires);
    });
  });
});

describe('ProviderCallError', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('carries provider, service and state, and its guards recognise it', async () => {
    vi.useFakeTimers();
    const { breaker } = createBreaker();
    breaker.open();

    const error = await rejectionOf(breaker.fire(async () => 'ok', []));
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({
      code: 'M28_BREAKER_OPEN',
      provider: 'stripe',
      service: 'payment',
      state: 'open',
      nextAttemptAt: new Date(Date.now() + RESET_MS),
    });
    expect(isBreakerOpenError(error)).toBe(true);
    expect(isProviderCallError(error)).toBe(true);
    expect(isProviderTimeoutError(error)).toBe(false);
    breaker.dispose();
  });

  it('is recognised by code across copies of the package, not by class', () => {
    const fromOtherCopy = Object.assign(new Error('elsewhere'), {
      code: 'M28_BREAKER_OPEN',
      [Symbol.for('m28-ops.error')]: true,
    });

    expect(isBreakerOpenError(fromOtherCopy)).toBe(true);
    expect(isProviderCallError(fromOtherCopy)).toBe(true);
    expect(isProviderCallError({ code: 'M28_BREAKER_OPEN' })).toBe(false);
  });
});
