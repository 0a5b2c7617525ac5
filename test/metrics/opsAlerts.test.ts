import { afterEach, describe, expect, it } from 'vitest';

import { createOps, type M28Ops, type OpsEvents } from '../../src/index.js';

const opened: M28Ops[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ops) => ops.close()));
});

function open(options: Parameters<typeof createOps>[0]): M28Ops {
  const ops = createOps(options);
  opened.push(ops);

  return ops;
}

describe('M28Ops alerts', () => {
  it('emits alert transitions on its one event stream and lists them in alerts()', async () => {
    const ops = open({
      providers: { 'stripe/payment': { failureThreshold: 1, resetTimeoutMs: 60_000 } },
    });
    const seen: Parameters<OpsEvents['alert:raised']>[0][] = [];
    ops.on('alert:raised', (alert) => seen.push(alert));
    await ops.start();

    await ops.fire('stripe', 'payment', () => Promise.reject(new Error('down'))).catch(() => 0);
    await Promise.resolve();

    expect(seen).toMatchObject([
      { rule: 'circuit_breaker_trips', level: 'warning', provider: 'stripe', previousLevel: null },
    ]);
    expect(ops.alerts()).toMatchObject([{ rule: 'circuit_breaker_trips', service: 'payment' }]);
  });

  it('raises nothing before start() nor after close()', async () => {
    const ops = open({
      providers: { 'stripe/payment': { failureThreshold: 1, resetTimeoutMs: 60_000 } },
    });
    let raised = 0;
    ops.on('alert:raised', () => (raised += 1));

    await ops.fire('stripe', 'payment', () => Promise.reject(new Error('down'))).catch(() => 0);
    await ops.start();
    await ops.close();
    const at = new Date();
    const key = { provider: 'stripe', service: 'payment', failures: 1 };
    ops.breakers.emit('breaker:open', { ...key, openedAt: at, nextAttemptAt: at });
    await Promise.resolve();

    expect(raised).toBe(0);
  });
});
