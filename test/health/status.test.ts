import { describe, expect, it } from 'vitest';

import {
  DEFAULT_STATUS_THRESHOLDS,
  deriveStatus,
  type StatusInputs,
} from '../../src/domain/status.js';

const HEALTHY: StatusInputs = {
  enabled: true,
  maintenanceMode: false,
  breakerState: 'closed',
  successRate: 1,
  responseTimeMs: 100,
  failedChecksInARow: 0,
  lastCheckPassed: true,
};

const status = (changes: Partial<StatusInputs>) => deriveStatus({ ...HEALTHY, ...changes });

describe('deriveStatus', () => {
  it('is healthy when every check passes and calls succeed quickly', () => {
    expect(status({})).toBe('healthy');
  });

  it('is healthy before any check or call', () => {
    expect(status({ successRate: null, responseTimeMs: null, lastCheckPassed: null })).toBe(
      'healthy',
    );
  });

  describe('maintenance and disabled', () => {
    it('reads maintenance while in maintenance, whatever else is true', () => {
      expect(status({ maintenanceMode: true })).toBe('maintenance');
      expect(
        status({ maintenanceMode: true, enabled: false, breakerState: 'open', successRate: 0 }),
      ).toBe('maintenance');
    });

    it('reads disabled when an operator disabled it, over an open breaker', () => {
      expect(status({ enabled: false })).toBe('disabled');
      expect(status({ enabled: false, breakerState: 'open', failedChecksInARow: 9 })).toBe(
        'disabled',
      );
    });
  });

  describe('unhealthy', () => {
    it('is unhealthy while the breaker is open', () => {
      expect(status({ breakerState: 'open' })).toBe('unhealthy');
    });

    it('is unhealthy after three failed checks in a row, degraded after one or two', () => {
      expect(status({ failedChecksInARow: 1, lastCheckPassed: false })).toBe('degraded');
      expect(status({ failedChecksInARow: 2, lastCheckPassed: false })).toBe('degraded');
      expect(status({ failedChecksInARow: 3, lastCheckPassed: false })).toBe('unhealthy');
    });

    it('is unhealthy below a 50 % success rate', () => {
      expect(status({ successRate: 0.49 })).toBe('unhealthy');
      expect(status({ successRate: 0.5 })).toBe('degraded');
    });

    it('wins over every degraded rule', () => {
      expect(
        status({
          breakerState: 'open',
          lastCheckPassed: false,
          successRate: 0.9,
          responseTimeMs: 9000,
        }),
      ).toBe('unhealthy');
    });
  });

  describe('degraded', () => {
    it('is degraded while the breaker is half-open', () => {
      expect(status({ breakerState: 'half_open' })).toBe('degraded');
    });

    it('is degraded when the last check failed', () => {
      expect(status({ lastCheckPassed: false, failedChecksInARow: 1 })).toBe('degraded');
    });

    it('is degraded below a 95 % success rate', () => {
      expect(status({ successRate: 0.94 })).toBe('degraded');
      expect(status({ successRate: 0.95 })).toBe('healthy');
    });

    it('is degraded when responses average over two seconds', () => {
      expect(status({ responseTimeMs: 2001 })).toBe('degraded');
      expect(status({ responseTimeMs: 2000 })).toBe('healthy');
    });
  });

  describe('success rate volume', () => {
    it('ignores the rate over fewer than ten calls', () => {
      expect(status({ successRate: 0, calls: 1 })).toBe('healthy');
      expect(status({ successRate: 0.9, calls: 9 })).toBe('healthy');
      expect(status({ successRate: 0.9, calls: 10 })).toBe('degraded');
      expect(status({ successRate: 0.2, calls: 10 })).toBe('unhealthy');
    });

    it('applies the rate when the number of calls is not given', () => {
      expect(status({ successRate: 0 })).toBe('unhealthy');
    });

    it('still reads other evidence over few calls', () => {
      expect(status({ successRate: 0, calls: 1, lastCheckPassed: false })).toBe('degraded');
    });
  });

  describe('custom thresholds', () => {
    const custom = (changes: Partial<StatusInputs>, thresholds: object) =>
      deriveStatus({ ...HEALTHY, ...changes }, { ...DEFAULT_STATUS_THRESHOLDS, ...thresholds });

    it('moves the unhealthy success rate', () => {
      expect(custom({ successRate: 0.7 }, {})).toBe('degraded');
      expect(custom({ successRate: 0.7 }, { unhealthyBelowSuccessRate: 0.8 })).toBe('unhealthy');
    });

    it('moves the degraded success rate', () => {
      expect(custom({ successRate: 0.97 }, { degradedBelowSuccessRate: 0.99 })).toBe('degraded');
      expect(custom({ successRate: 0.9 }, { degradedBelowSuccessRate: 0.8 })).toBe('healthy');
    });

    it('moves the failed checks that make it unhealthy', () => {
      const failing = { failedChecksInARow: 3, lastCheckPassed: false };

      expect(custom(failing, { unhealthyAfterFailedChecks: 5 })).toBe('degraded');
      expect(custom({ ...failing, failedChecksInARow: 1 }, { unhealthyAfterFailedChecks: 1 })).toBe(
        'unhealthy',
      );
    });

    it('moves the slow response time', () => {
      expect(custom({ responseTimeMs: 600 }, { degradedAboveResponseMs: 500 })).toBe('degraded');
      expect(custom({ responseTimeMs: 3000 }, { degradedAboveResponseMs: 5000 })).toBe('healthy');
    });

    it('moves the calls the success rate needs', () => {
      expect(custom({ successRate: 0, calls: 2 }, { minCallsForSuccessRate: 2 })).toBe('unhealthy');
      expect(custom({ successRate: 0, calls: 20 }, { minCallsForSuccessRate: 50 })).toBe('healthy');
    });
  });
});
