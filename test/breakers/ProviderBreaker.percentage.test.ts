import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { BreakerOptions } from '../../src/breakers/options.js';
import type { ProviderBreaker } from '../../src/breakers/ProviderBreaker.js';
import { createBreaker, failingCall, fireTimes } from './helpers.js';

const ok = async () => 'ok';
const fail = failingCall().fn;

describe('ProviderBreaker', () => {
  describe('percentage mode', () => {
    let breaker: ProviderBreaker;
    const create = (options: BreakerOptions = {}) => {
      breaker = createBreaker({
        mode: 'percentage',
        errorThresholdPercentage: 50,
        volumeThreshold: 10,
        ...options,
      }).breaker;

      return breaker;
    };

    beforeEach(() => {
      vi.useFakeTimers();
    });

    afterEach(() => {
      breaker.dispose();
      vi.useRealTimers();
    });

    it('stays closed after 9 failures and opens on the 10th call', async () => {
      create();

      await fireTimes(breaker, fail, 9);
      expect(breaker.state).toBe('closed');

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('open');
    });

    it('opens once 10 calls show 50% failures', async () => {
      create();
      for (let i = 0; i < 4; i += 1) {
        await fireTimes(breaker, ok, 1);
        await fireTimes(breaker, fail, 1);
      }
      await fireTimes(breaker, ok, 1);
      expect(breaker.state).toBe('closed');

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('open');
    });

    it('stays closed below the percentage and opens when it is reached', async () => {
      create();
      await fireTimes(breaker, ok, 6);
      await fireTimes(breaker, fail, 5);
      expect(breaker.state).toBe('closed');

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('open');
    });

    it('forgets failures older than the rolling window', async () => {
      create({ rollingWindowMs: 10_000 });
      await fireTimes(breaker, fail, 9);
      await vi.advanceTimersByTimeAsync(11_000);

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('closed');

      await fireTimes(breaker, fail, 9);
      expect(breaker.state).toBe('open');
    });

    it('does not reopen on the first failure after a successful trial', async () => {
      create({ resetTimeoutMs: 1000 });
      await fireTimes(breaker, fail, 10);
      await vi.advanceTimersByTimeAsync(1000);
      await fireTimes(breaker, ok, 1);
      expect(breaker.state).toBe('closed');

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('closed');
    });

    it('does not reopen on the first failure after an operator reset', async () => {
      create();
      await fireTimes(breaker, fail, 10);
      breaker.reset();

      await fireTimes(breaker, fail, 1);
      expect(breaker.state).toBe('closed');
    });

    it('ignores failureThreshold', async () => {
      create({ failureThreshold: 1 });

      await fireTimes(breaker, fail, 9);
      expect(breaker.state).toBe('closed');
    });
  });
});
