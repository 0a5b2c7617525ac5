import CircuitBreaker from 'opossum';

import { CircuitBreakerRegistry } from '../src/index.js';
import { heapUsedAfterGc } from './support/measure.js';
import { answer } from './support/providers.js';
import {
  formatBytes,
  formatRatio,
  printHeading,
  printTable,
  verdict,
  type SummaryRow,
} from './support/report.js';

const BREAKERS = 10_000;
/** Heap after disposing, against the heap before creating: what may be left over. */
const GOAL = 1.05;

/** Heap used before, while and after `BREAKERS` breakers exist. */
interface HeapSample {
  readonly before: number;
  readonly alive: number;
  readonly after: number;
}

/** 10,000 breakers through the registry: wrap and one call each, then `dispose()`. */
async function sampleRegistry(): Promise<HeapSample> {
  const registry = new CircuitBreakerRegistry();
  const before = await heapUsedAfterGc();
  let calls: (() => Promise<number>)[] = [];
  for (let i = 0; i < BREAKERS; i += 1) {
    calls.push(registry.wrap(`provider${i}`, 'payment', answer));
  }
  await Promise.all(calls.map((call) => call()));
  const alive = await heapUsedAfterGc();

  registry.dispose();
  calls = [];
  const after = await heapUsedAfterGc();

  return { before, alive, after };
}

/** The same with bare opossum breakers and the registry's opossum options, for scale. */
async function sampleOpossum(): Promise<HeapSample> {
  const before = await heapUsedAfterGc();
  let breakers: CircuitBreaker<[], number>[] = [];
  for (let i = 0; i < BREAKERS; i += 1) {
    breakers.push(
      new CircuitBreaker(answer, {
        name: `provider${i}/payment`,
        timeout: 10_000,
        resetTimeout: 300_000,
        rollingCountTimeout: 10_000,
        enableSnapshots: false,
        rollingPercentilesEnabled: false,
      }),
    );
  }
  await Promise.all(breakers.map((breaker) => breaker.fire()));
  const alive = await heapUsedAfterGc();

  for (const breaker of breakers) {
    breaker.shutdown();
  }
  breakers = [];
  const after = await heapUsedAfterGc();

  return { before, alive, after };
}

/**
 * Heap used (after `global.gc()`) while 10,000 breakers exist and after they are disposed,
 * against the heap measured right before creating them.
 */
export async function benchMemory(): Promise<SummaryRow[]> {
  printHeading(`Memory: ${BREAKERS.toLocaleString('en-US')} breakers, created and disposed`);
  if (!globalThis.gc) {
    console.log('skipped: global.gc() is missing; run node with --expose-gc');

    return [];
  }

  const registry = await sampleRegistry();
  const opossum = await sampleOpossum();
  const perBreaker = (sample: HeapSample) => (sample.alive - sample.before) / BREAKERS;
  const samples: [string, HeapSample][] = [
    ['registry.wrap() + 1 call', registry],
    ['bare opossum + 1 fire()', opossum],
  ];
  printTable(
    ['Breakers', 'before', 'all alive', 'per breaker', 'after dispose', 'after - before'],
    samples.map(([label, { before, alive, after }]) => [
      label,
      formatBytes(before),
      `${formatBytes(alive)} (${formatRatio(alive / before)})`,
      formatBytes((alive - before) / BREAKERS),
      `${formatBytes(after)} (${formatRatio(after / before)})`,
      formatBytes(after - before, true),
    ]),
  );

  const leftOver = registry.after / registry.before;
  const delta = formatBytes(registry.after - registry.before, true);

  return [
    {
      benchmark: 'memory: heap after dispose / before',
      baseline: formatBytes(registry.before),
      measured: `${formatBytes(registry.after)} (${delta})`,
      ratio: formatRatio(leftOver),
      goal: `<= ${formatRatio(GOAL)}`,
      verdict: verdict(leftOver <= GOAL),
    },
    {
      benchmark: `memory: heap with ${BREAKERS / 1000}k alive / before`,
      baseline: formatBytes(registry.before),
      measured: formatBytes(registry.alive),
      ratio: formatRatio(registry.alive / registry.before),
      goal: '-',
      verdict: 'info',
    },
    {
      benchmark: 'memory: bytes per breaker, registry / opossum',
      baseline: formatBytes(perBreaker(opossum)),
      measured: formatBytes(perBreaker(registry)),
      ratio: formatRatio(perBreaker(registry) / perBreaker(opossum)),
      goal: '-',
      verdict: 'info',
    },
  ];
}
