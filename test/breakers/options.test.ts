import { describe, expect, it } from 'vitest';

import {
  CircuitBreakerRegistry,
  type CircuitBreakerRegistryOptions,
} from '../../src/breakers/CircuitBreakerRegistry.js';
import { resolveBreakerOptions, type BreakerOptions } from '../../src/breakers/options.js';
import { ValidationError, isValidationError } from '../../src/errors/ValidationError.js';

/** The ValidationError `fn` throws; fails the test when it throws nothing or something else. */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);

    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('resolveBreakerOptions', () => {
  it("applies the spec's defaults", () => {
    expect(resolveBreakerOptions(undefined)).toEqual({
      mode: 'count',
      failureThreshold: 5,
      resetTimeoutMs: 300_000,
      timeoutMs: 10_000,
      halfOpenMaxCalls: 1,
      errorFilter: undefined,
      fallback: undefined,
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      rollingWindowMs: 10_000,
    });
  });
});

describe('CircuitBreakerRegistry', () => {
  describe('options validation', () => {
    it.each([
      ['failureThreshold', 0, />= ?1/],
      ['failureThreshold', -1, />= ?1/],
      ['failureThreshold', 1.5, /int/],
      ['failureThreshold', 'five', /number/],
      ['resetTimeoutMs', 0, />= ?1/],
      ['resetTimeoutMs', 3_000_000_000, /<= ?2147483647/],
      ['timeoutMs', 3_000_000_000, /<= ?2147483647/],
      ['halfOpenMaxCalls', 0, />= ?1/],
      ['errorThresholdPercentage', 150, /<= ?100/],
      ['rollingWindowMs', 5, />= ?10/],
      ['mode', 'sometimes', /count|percentage/],
      ['treshold', 5, /not a known option/],
    ])('refuses defaults.%s = %j, naming the option, rule and value', (key, value, rule) => {
      const defaults = { [key]: value } as BreakerOptions;

      const error = validationErrorOf(() => new CircuitBreakerRegistry({ defaults }));
      expect(error.issues[0]).toEqual({
        field: `defaults.${key}`,
        rule: expect.stringMatching(rule),
        received: value,
      });
      expect(error.message).toContain(`defaults.${key}`);
      expect(isValidationError(error)).toBe(true);
    });

    it('names the provider and service key of a bad override', () => {
      const providers = { 'stripe/payment': { failureThreshold: 0 } };

      const error = validationErrorOf(() => new CircuitBreakerRegistry({ providers }));
      expect(error.issues[0]).toMatchObject({
        field: 'providers.stripe/payment.failureThreshold',
        received: 0,
      });
    });

    it('names the key of a bad option given to register()', () => {
      const registry = new CircuitBreakerRegistry();

      const error = validationErrorOf(() =>
        registry.register('stripe', 'payment', { halfOpenMaxCalls: 0 }),
      );
      expect(error.field).toBe('providers.stripe/payment.halfOpenMaxCalls');
      expect(registry.list()).toEqual([]);
    });

    it.each([
      ['', 'payment', 'provider'],
      ['   ', 'payment', 'provider'],
      ['stripe', '', 'service'],
      ['stripe/eu', 'payment', 'provider'],
      ['stripe', 'pay/ment', 'service'],
      ['x'.repeat(101), 'payment', 'provider'],
    ])('refuses the provider %j and service %j', (provider, service, field) => {
      const registry = new CircuitBreakerRegistry();

      const error = validationErrorOf(() => registry.wrap(provider, service, async () => 'ok'));
      expect(error.issues[0]).toMatchObject({
        field,
        received: field === 'provider' ? provider : service,
      });
      expect(registry.list()).toEqual([]);
    });

    it.each(['', ' ', 'stripe/', '/payment', 'stripe/payment/eu'])(
      'refuses the override key %j',
      (key) => {
        const options: CircuitBreakerRegistryOptions = { providers: { [key]: {} } };

        const error = validationErrorOf(() => new CircuitBreakerRegistry(options));
        expect(error.issues[0]).toMatchObject({ field: `providers.${key}`, received: key });
      },
    );
  });
});
