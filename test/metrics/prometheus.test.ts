import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';

import {
  METRIC_FAMILIES,
  createOps,
  escapeLabel,
  renderMetrics,
  type M28Ops,
} from '../../src/index.js';
import { parsePrometheusText } from './promText.js';

const SPEC_METRICS = [
  'provider_available',
  'provider_response_time',
  'provider_circuit_breaker_failures',
];

const opened: M28Ops[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ops) => ops.close()));
});

async function opsWith(providers: Record<string, object>) {
  const ops = createOps({ providers });
  opened.push(ops);
  await ops.start();

  return ops;
}

describe('renderMetrics', () => {
  it('declares HELP and TYPE before the samples of every family, and parses strictly', async () => {
    const ops = await opsWith({ 'stripe/payment': {}, 'twilio/sms': {} });
    await ops.fire('stripe', 'payment', () => 'ok');
    await ops.fire('twilio', 'sms', () => Promise.reject(new Error('down'))).catch(() => 0);

    const text = await ops.metrics();
    const families = parsePrometheusText(text);

    expect([...families.keys()]).toEqual(
      METRIC_FAMILIES.filter((f) => !f.needsStore).map((f) => f.name),
    );
    for (const family of families.values()) {
      expect(family.help, family.name).toBeTruthy();
      expect(family.type, family.name).toMatch(/^(gauge|counter)$/);
      expect(family.samples.length, family.name).toBeGreaterThan(0);
    }
  });

  it("exposes the spec's metric names with provider and service labels", async () => {
    const ops = await opsWith({ 'stripe/payment': {}, 'fcm/push': {} });
    await ops.fire('stripe', 'payment', () => 'ok');

    const families = parsePrometheusText(await ops.metrics());

    for (const name of SPEC_METRICS) {
      const samples = families.get(name)?.samples ?? [];
      expect(samples.map((s) => s.labels)).toEqual([
        { provider: 'stripe', service: 'payment' },
        { provider: 'fcm', service: 'push' },
      ]);
      expect(families.get(name)?.type).toBe('gauge');
    }
    expect(families.get('provider_available')?.samples.map((s) => s.value)).toEqual([1, 1]);
  });

  it('shows an open breaker as unavailable, with its failures and state', async () => {
    const ops = await opsWith({ 'stripe/payment': { failureThreshold: 2 } });
    for (let i = 0; i < 2; i += 1) {
      await ops.fire('stripe', 'payment', () => Promise.reject(new Error('down'))).catch(() => 0);
    }
    await ops.fire('stripe', 'payment', () => 'ok').catch(() => 0);

    const families = parsePrometheusText(await ops.metrics());
    const value = (name: string, labels: object = {}) =>
      families
        .get(name)
        ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    expect(value('provider_available')).toBe(0);
    expect(value('provider_circuit_breaker_failures')).toBe(2);
    expect(value('provider_circuit_breaker_state', { state: 'open' })).toBe(1);
    expect(value('provider_circuit_breaker_state', { state: 'closed' })).toBe(0);
    expect(value('provider_calls_total', { outcome: 'failure' })).toBe(2);
    expect(value('provider_calls_total', { outcome: 'rejected' })).toBe(1);
    expect(value('provider_rejections_total')).toBe(1);
    expect(value('provider_status', { status: 'unhealthy' })).toBe(1);
  });

  it('escapes quotes, backslashes and newlines in label values, which round-trip', async () => {
    const hostile = 'we"ird\\name\nnext';
    const ops = await opsWith({ [`${hostile}/pay"ment`]: {} });

    const text = await ops.metrics();

    expect(text).toContain('provider="we\\"ird\\\\name\\nnext"');
    expect(text.split('\n').every((line) => !line.startsWith('next'))).toBe(true);
    const available = parsePrometheusText(text).get('provider_available')?.samples[0];
    expect(available?.labels).toEqual({ provider: hostile, service: 'pay"ment' });
    const lenient = parsePrometheusTextFormat(text);
    expect(lenient.find((f) => f.name === 'provider_available')?.metrics[0]?.labels).toEqual({
      provider: hostile,
      service: 'pay"ment',
    });
  });

  it('escapes every character the text format reserves, and nothing else', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabel('ünï {}=,')).toBe('ünï {}=,');
  });

  it('agrees with a published parser on every family and sample', async () => {
    const ops = await opsWith({ 'stripe/payment': {}, 'twilio/sms': {} });
    await ops.fire('stripe', 'payment', () => 'ok');

    const text = await ops.metrics();
    const strict = parsePrometheusText(text);
    const lenient = parsePrometheusTextFormat(text);

    expect(lenient.map((f) => f.name)).toEqual([...strict.keys()]);
    for (const family of lenient) {
      const mine = strict.get(family.name);
      expect(family.type.toLowerCase()).toBe(mine?.type);
      expect(family.help).toBe(mine?.help);
      expect(family.metrics.map((m) => Number(m.value))).toEqual(mine?.samples.map((s) => s.value));
    }
  });

  it('adds secrets by state and rotations by outcome when given them', () => {
    const text = renderMetrics({
      breakers: [],
      statusOf: () => undefined,
      secrets: { due: 2, overdue: 1, rotating: 0 },
      rotations: { completed: 3, failed: 1 },
    });
    const families = parsePrometheusText(text);

    expect(families.get('secrets_rotation_state')?.samples).toEqual([
      { name: 'secrets_rotation_state', labels: { state: 'due' }, value: 2 },
      { name: 'secrets_rotation_state', labels: { state: 'overdue' }, value: 1 },
      { name: 'secrets_rotation_state', labels: { state: 'rotating' }, value: 0 },
    ]);
    expect(families.get('secret_rotations_total')?.type).toBe('counter');
    expect(families.get('secret_rotations_total')?.samples.map((s) => s.value)).toEqual([3, 1]);
    expect(families.get('provider_available')?.samples).toEqual([]);
  });

  it('has a valid, distinct name and HELP text for every family', () => {
    const names = METRIC_FAMILIES.map((f) => f.name);

    expect(new Set(names).size).toBe(names.length);
    for (const family of METRIC_FAMILIES) {
      expect(family.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(family.help).not.toMatch(/[\\\n]/);
      expect(family.type === 'counter').toBe(family.name.endsWith('_total'));
    }
  });
});
