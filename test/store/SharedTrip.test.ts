import { afterEach, describe, expect, it } from 'vitest';

import { CircuitBreakerRegistry, isBreakerOpenError, type M28Store } from '../../src/index.js';
import { SharedTrip } from '../../src/store/SharedTrip.js';
import { backends, useDatabase } from '../support/databases.js';

interface Instance {
  readonly registry: CircuitBreakerRegistry;
  readonly trip: SharedTrip;
  readonly errors: Error[];
}

async function instance(store: M28Store, id: string): Promise<Instance> {
  const registry = new CircuitBreakerRegistry({ defaults: { failureThreshold: 2 } });
  registry.register('stripe', 'payment');
  const errors: Error[] = [];
  const trip = new SharedTrip(store, registry, id, (error) => errors.push(error));
  await trip.start();

  return { registry, trip, errors };
}

const boom = () => Promise.reject(new Error('stripe is down'));

describe.each(backends)('SharedTrip on %s', (backend) => {
  const database = useDatabase(backend);
  const running: Instance[] = [];

  afterEach(async () => {
    for (const { trip, registry } of running.splice(0)) {
      await trip.close();
      registry.dispose();
    }
  });

  it('opens the same breaker on the other instances until the same next attempt', async () => {
    const { store, connectAnother } = database();
    const a = await instance(store, 'a');
    const b = await instance(connectAnother ? await connectAnother(2) : store, 'b');
    running.push(a, b);
    const bOpened: boolean[] = [];
    b.registry.on('breaker:open', (event) => bOpened.push(event.shared === true));

    await Promise.allSettled([1, 2].map(() => a.registry.fire('stripe', 'payment', boom)));

    await expect.poll(() => b.registry.get('stripe', 'payment')?.state).toBe('open');
    const aCircuit = a.registry.get('stripe', 'payment')?.circuit;
    const bCircuit = b.registry.get('stripe', 'payment')?.circuit;
    expect(bCircuit).toEqual(aCircuit);
    expect(bOpened).toEqual([true]);
    const refused = await b.registry.fire('stripe', 'payment', () => 'ok').catch((e) => e);
    expect(isBreakerOpenError(refused)).toBe(true);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('does not send on a trip it learned, so trips do not echo', async () => {
    const { store } = database();
    const a = await instance(store, 'a2');
    const b = await instance(store, 'b2');
    running.push(a, b);
    let aOpens = 0;
    a.registry.on('breaker:open', () => {
      aOpens += 1;
    });

    await Promise.allSettled([1, 2].map(() => a.registry.fire('stripe', 'payment', boom)));
    await expect.poll(() => b.registry.get('stripe', 'payment')?.state).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(aOpens).toBe(1);
  });
});
