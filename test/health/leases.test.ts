import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';

import {
  CircuitBreakerRegistry,
  isValidationError,
  ProviderHealthMonitor,
  type M28Store,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

const claim = (store: M28Store, owner: string, leaseMs: number, provider = 'stripe') =>
  store
    .withRole('m28_system', (tx) =>
      store.query<{ claimed: boolean }>(
        sql`select m28.claim_health_check(${provider}, 'payment', ${owner}, ${leaseMs})
          as claimed`,
        tx,
      ),
    )
    .then(([row]) => row?.claimed);

describe.each(backends)('health-check leases on %s', (backend) => {
  const database = useDatabase(backend);
  const monitors: ProviderHealthMonitor[] = [];

  afterEach(() => {
    for (const monitor of monitors.splice(0)) {
      monitor.close();
    }
  });

  it('gives a lease to one owner until it expires', async () => {
    const { store } = database();

    expect(await claim(store, 'instance-a', 60_000, 'lease-a')).toBe(true);
    expect(await claim(store, 'instance-b', 60_000, 'lease-a')).toBe(false);
    expect(await claim(store, 'instance-a', 60_000, 'lease-a')).toBe(true);
    expect(await claim(store, 'instance-c', 1, 'lease-b')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await claim(store, 'instance-d', 60_000, 'lease-b')).toBe(true);
  });

  it('refuses a lease without an owner or a duration', async () => {
    const { store } = database();

    const noOwner = await claim(store, '', 1000).catch((e: unknown) => e);
    const noDuration = await claim(store, 'instance-a', 0).catch((e: unknown) => e);

    expect(isValidationError(noOwner)).toBe(true);
    expect((noOwner as { field: string }).field).toBe('lease_owner');
    expect((noDuration as { field: string }).field).toBe('lease_ms');
  });

  it('checks a provider once per interval across instances that share the store', async () => {
    const { store, connectAnother } = database();
    const stores = [store, connectAnother ? await connectAnother(2) : store, store];
    let checks = 0;
    for (const instanceStore of stores) {
      const monitor = new ProviderHealthMonitor({
        registry: new CircuitBreakerRegistry(),
        store: instanceStore,
        intervalMs: 300,
      });
      monitor.register('twilio', 'sms', () => {
        checks += 1;
      });
      monitors.push(monitor);
    }

    monitors.forEach((monitor) => monitor.start());
    await new Promise((resolve) => setTimeout(resolve, 1_650));
    monitors.forEach((monitor) => monitor.close());

    // Five intervals passed: three instances without leases would have checked 15 times.
    expect(checks).toBeGreaterThanOrEqual(3);
    expect(checks).toBeLessThanOrEqual(6);
  });

  it('lets every instance check when leases are off', async () => {
    const { store } = database();
    let checks = 0;
    for (let i = 0; i < 3; i += 1) {
      const monitor = new ProviderHealthMonitor({
        registry: new CircuitBreakerRegistry(),
        store,
        intervalMs: 300,
        leaseChecks: false,
      });
      monitor.register('fcm', 'push', () => {
        checks += 1;
      });
      monitors.push(monitor);
    }

    monitors.forEach((monitor) => monitor.start());
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    monitors.forEach((monitor) => monitor.close());

    expect(checks).toBeGreaterThanOrEqual(7);
  });
});
