import { createOps, type M28Store, type StoreSink } from '../src/index.js';
import { interleave, median, runCalls, type Variant } from './support/measure.js';
import { PROVIDER_KEYS, PROVIDERS, wrapProviders } from './support/providers.js';
import {
  formatCount,
  formatMs,
  formatNs,
  formatRate,
  formatRatio,
  printTable,
  timedVerdict,
  type SummaryRow,
} from './support/report.js';

const CALLS_PER_ROUND = 100_000;
const ROUNDS = 21;
const FLUSH_SAMPLES = 25;
const GOAL = 0.9;
/** How often the sink flushes, in milliseconds. */
export const FLUSH_INTERVAL_MS = 100;

const WITH_STORE = 'with store';
const WITHOUT_STORE = 'without store';

/**
 * Median wall time and CPU time of this process for one flush after a call to each provider:
 * the cost the store adds to the calling process once per interval.
 */
async function measureFlushCost(
  sink: StoreSink,
  call: (index: number) => Promise<unknown>,
): Promise<{ wallMs: number; cpuMs: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let sample = 0; sample < FLUSH_SAMPLES; sample += 1) {
    await runCalls(call, PROVIDER_KEYS.length);
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    await sink.flush();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }

  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/**
 * Throughput of calls spread over ten providers through `createOps()` with a store (which
 * flushes every `FLUSH_INTERVAL_MS`) against `createOps()` without one, interleaved round
 * by round.
 */
export async function benchStoreThroughput(
  backend: string,
  store: M28Store,
): Promise<SummaryRow[]> {
  const withStore = createOps({ store, providers: PROVIDERS, flushIntervalMs: FLUSH_INTERVAL_MS });
  const withoutStore = createOps({ providers: PROVIDERS });
  const errors: Error[] = [];
  withStore.on('error', (error) => errors.push(error));
  const migrateStart = process.hrtime.bigint();
  await withStore.start();
  const startNs = Number(process.hrtime.bigint() - migrateStart);
  await withoutStore.start();
  console.log(`[${backend}] ops.start(), migrations included: ${formatMs(startNs)}`);

  const callWith = wrapProviders(withStore);
  const callWithout = wrapProviders(withoutStore);
  const variants: Variant[] = [
    { name: WITH_STORE, run: () => runCalls(callWith, CALLS_PER_ROUND) },
    { name: WITHOUT_STORE, run: () => runCalls(callWithout, CALLS_PER_ROUND) },
  ];

  // Warm-up: one untimed round of each.
  await interleave(variants, 1);
  const flushesBefore = withStore.sink!.stats.flushes;
  const samples = await interleave(variants, ROUNDS);
  const flushesDuring = withStore.sink!.stats.flushes - flushesBefore;
  const flushCost = await measureFlushCost(withStore.sink!, callWith);
  await withStore.close();
  await withoutStore.close();

  const rate = (name: string) => samples.get(name)!.map((ns) => (CALLS_PER_ROUND * 1e9) / ns);
  const withRate = median(rate(WITH_STORE));
  const withoutRate = median(rate(WITHOUT_STORE));
  const ratio = withRate / withoutRate;
  const roundRatios = rate(WITH_STORE).map((value, round) => value / rate(WITHOUT_STORE)[round]!);
  console.log(
    `[${backend}] ${ROUNDS} rounds x ${formatCount(CALLS_PER_ROUND)} calls over 10 providers, ` +
      `alternating; ${formatCount(flushesDuring)} flushes committed during the timed rounds`,
  );
  printTable(
    ['Variant', 'median calls/s', 'min', 'max', 'ns/call', 'vs without'],
    [WITH_STORE, WITHOUT_STORE].map((name) => {
      const values = rate(name);
      const middle = median(values);

      return [
        `${name} (${backend})`,
        formatRate(middle),
        formatRate(Math.min(...values)),
        formatRate(Math.max(...values)),
        formatNs(1e9 / middle),
        formatRatio(middle / withoutRate),
      ];
    }),
  );
  console.log(
    `[${backend}] with/without, round by round: median ${formatRatio(median(roundRatios))} ` +
      `(goal >= ${formatRatio(GOAL)})`,
  );
  console.log(
    `[${backend}] one flush of 10 snapshots: ${flushCost.wallMs.toFixed(2)} ms wall, ` +
      `${flushCost.cpuMs.toFixed(2)} ms of this process's CPU, ` +
      `${((100 * flushCost.cpuMs) / FLUSH_INTERVAL_MS).toFixed(1)}% of a ${FLUSH_INTERVAL_MS} ms ` +
      'interval (medians)',
  );
  if (errors.length > 0) {
    console.log(`[${backend}] background errors: ${errors.map((e) => e.message).join('; ')}`);
  }

  return [
    {
      benchmark: `store attached (${backend}): calls/s with / without`,
      baseline: formatRate(withoutRate),
      measured: formatRate(withRate),
      ratio: formatRatio(ratio),
      paired: formatRatio(median(roundRatios)),
      goal: `>= ${formatRatio(GOAL)}`,
      verdict: timedVerdict(ratio >= GOAL, median(roundRatios) >= GOAL),
    },
  ];
}
