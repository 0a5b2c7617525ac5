import { Gauge, Registry, register } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import {
  METRIC_FAMILIES,
  createOps,
  registerPromClientMetrics,
  type M28Ops,
  type MetricFamily,
} from '../../src/index.js';
import { parsePrometheusText } from './promText.js';

const opened: M28Ops[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ops) => ops.close()));
});

async function busyOps(): Promise<M28Ops> {
  const ops = createOps({ providers: { 'stripe/payment': {}, 'we"ird\\x/sms': {} } });
  opened.push(ops);
  await ops.start();
  await ops.fire('stripe', 'payment', () => 'ok');
  await ops.fire('we"ird\\x', 'sms', () => Promise.reject(new Error('down'))).catch(() => 0);

  return ops;
}

function byName(text: string) {
  return Object.fromEntries(
    [...parsePrometheusText(text)].map(([name, f]) => [name, { type: f.type, samples: f.samples }]),
  );
}

describe('M28Ops.registerPromClient', () => {
  it("exposes the same families and samples in prom-client's registry", async () => {
    const ops = await busyOps();
    const registry = new Registry();

    const registration = await ops.registerPromClient({ registry });
    const fromPromClient = byName(await registry.metrics());

    expect(registration.names).toEqual(
      METRIC_FAMILIES.filter((f) => !f.needsStore).map((f) => f.name),
    );
    expect(fromPromClient).toEqual(byName(await ops.metrics()));
    expect(fromPromClient.provider_available?.samples).toContainEqual({
      name: 'provider_available',
      labels: { provider: 'we"ird\\x', service: 'sms' },
      value: 1,
    });
  });

  it('reads the values again at every scrape', async () => {
    const ops = await busyOps();
    const registry = new Registry();
    await ops.registerPromClient({ registry });
    const calls = async () =>
      byName(await registry.metrics()).provider_calls_total?.samples.find(
        (s) => s.labels.provider === 'stripe' && s.labels.outcome === 'success',
      )?.value;

    expect(await calls()).toBe(1);
    await ops.fire('stripe', 'payment', () => 'ok');
    expect(await calls()).toBe(2);
  });

  it("joins prom-client's global registry by default, and leaves it on unregister", async () => {
    const ops = await busyOps();

    const registration = await ops.registerPromClient();
    try {
      expect(register.getSingleMetric('provider_available')).toBeDefined();
      expect(await register.metrics()).toContain('provider_available{provider="stripe"');
    } finally {
      registration.unregister();
      registration.unregister();
    }
    expect(register.getSingleMetric('provider_available')).toBeUndefined();
  });

  it('registers nothing when a family of the same name is already there', async () => {
    const ops = await busyOps();
    const registry = new Registry();
    new Gauge({ name: 'provider_status', help: 'the host’s own', registers: [registry] });

    await expect(ops.registerPromClient({ registry })).rejects.toThrow(/already been registered/);
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['provider_status']);
  });
});

describe('registerPromClientMetrics', () => {
  it('collects once per scrape, however many families the scrape reads', async () => {
    const families: MetricFamily[] = METRIC_FAMILIES.map((spec) => ({ ...spec, samples: [] }));
    let collections = 0;
    const registry = new Registry();
    await registerPromClientMetrics(
      METRIC_FAMILIES,
      async () => {
        collections += 1;

        return families;
      },
      { registry },
    );

    await registry.metrics();
    expect(collections).toBe(1);
    await registry.metrics();
    expect(collections).toBe(2);
  });
});
