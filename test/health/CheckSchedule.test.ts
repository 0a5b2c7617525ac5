import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CheckSchedule } from '../../src/health/CheckSchedule.js';
import type { HealthCheckLease } from '../../src/health/HealthCheckLease.js';
import type { ProviderRecord } from '../../src/health/ProviderRecord.js';

/** A lease whose claims resolve only when the test says so. */
function slowLease() {
  const pending: ((claimed: boolean) => void)[] = [];
  const lease = {
    claim: () => new Promise<boolean>((resolve) => pending.push(resolve)),
  } as unknown as HealthCheckLease;

  return { lease, grant: () => pending.shift()?.(true) };
}

const recordOf = () =>
  ({
    provider: 'stripe',
    service: 'payment',
    check: () => true,
    intervalMs: 100,
    timer: undefined,
    checking: false,
  }) as unknown as ProviderRecord;

describe('CheckSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A schedule started on one record, one interval in, its lease claim on its way. */
  async function claiming() {
    const { lease, grant } = slowLease();
    const check = vi.fn(async () => undefined);
    const schedule = new CheckSchedule(lease, check, () => {});
    const record = recordOf();
    schedule.start(record);
    await vi.advanceTimersByTimeAsync(100);

    return { grant, check, schedule, record };
  }

  it('checks once its lease is claimed', async () => {
    const { grant, check, schedule, record } = await claiming();

    grant();
    await vi.advanceTimersByTimeAsync(0);

    expect(check).toHaveBeenCalledWith('stripe', 'payment');
    schedule.stop(record);
  });

  it('does not check when it was stopped while the claim was on its way', async () => {
    const { grant, check, schedule, record } = await claiming();

    schedule.stop(record);
    grant();
    await vi.advanceTimersByTimeAsync(0);

    expect(check).not.toHaveBeenCalled();
    expect(record.checking).toBe(false);
  });
});
