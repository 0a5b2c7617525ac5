import CircuitBreaker from 'opossum';

import { CircuitBreakerRegistry } from '../src/index.js';
import { interleave, median, runCalls, type Variant } from './support/measure.js';
import {
  formatNs,
  formatRate,
  formatRatio,
  printHeading,
  printTable,
  timedVerdict,
  type SummaryRow,
} from './support/report.js';

const CALLS_PER_ROUND = 100_000;
// Many short rounds: on a busy machine a short round is less often preempted, and the median
// of many rounds shrugs off those that are.
const ROUNDS = 31;
const INFO_ROUNDS = 5;
const GOAL = 1.15;

/**
 * The opossum options ProviderBreaker derives from the registry's defaults (timeout 10 s,
 * 10 s rolling window, 300 s reset); the error filter only runs on failures.
 */
const SAME_OPTIONS: CircuitBreaker.Options = {
  timeout: 10_000,
  resetTimeout: 300_000,
  rollingCountTimeout: 10_000,
  errorThresholdPercentage: 100,
  volumeThreshold: Number.MAX_SAFE_INTEGER,
  enableSnapshots: false,
  rollingPercentilesEnabled: false,
};

/** opossum's own defaults, apart from the timeout and window: snapshots and percentiles on. */
const OPOSSUM_DEFAULTS: CircuitBreaker.Options = {
  timeout: 10_000,
  resetTimeout: 300_000,
  rollingCountTimeout: 10_000,
};

const answer = async () => 42;

const REGISTRY = 'registry.wrap()';
const OPOSSUM = 'opossum, same options';
const DEFAULTS = 'opossum, its defaults';
const HARNESS = 'no breaker (harness)';

/**
 * Time per call through `CircuitBreakerRegistry.wrap()` against a bare opossum breaker with
 * the same options, interleaved round by round.
 */
export async function benchHotPath(): Promise<SummaryRow[]> {
  printHeading('Hot path: registry.wrap() vs bare opossum');
  const registry = new CircuitBreakerRegistry();
  const charge = registry.wrap('stripe', 'payment', answer);
  // Copies: opossum writes its default errorFilter, a closure over the breaker, into the
  // options object it is given, which would keep these breakers alive for the memory bench.
  const same = new CircuitBreaker(answer, { ...SAME_OPTIONS });
  const defaults = new CircuitBreaker(answer, { ...OPOSSUM_DEFAULTS });
  const compared: Variant[] = [
    { name: REGISTRY, run: () => runCalls(() => charge(), CALLS_PER_ROUND) },
    { name: OPOSSUM, run: () => runCalls(() => same.fire(), CALLS_PER_ROUND) },
  ];
  const informative: Variant[] = [
    { name: DEFAULTS, run: () => runCalls(() => defaults.fire(), CALLS_PER_ROUND) },
    { name: HARNESS, run: () => runCalls(() => answer(), CALLS_PER_ROUND) },
  ];

  console.log(
    `warm-up 1 round each, then ${ROUNDS} rounds x ` +
      `${CALLS_PER_ROUND.toLocaleString('en-US')} calls, alternating, Promise.all of 1000`,
  );
  // Warm-up: one untimed round of each, so that every path is optimised before timing.
  await interleave([...compared, ...informative], 1);
  const samples = new Map([
    ...(await interleave(compared, ROUNDS)),
    ...(await interleave(informative, INFO_ROUNDS)),
  ]);

  const perCall = (name: string) => samples.get(name)!.map((ns) => ns / CALLS_PER_ROUND);
  printTable(
    ['Variant', 'median ns/call', 'min', 'max', 'calls/s', 'vs opossum'],
    [...compared, ...informative].map(({ name }) => {
      const values = perCall(name);
      const middle = median(values);

      return [
        name,
        formatNs(middle),
        formatNs(Math.min(...values)),
        formatNs(Math.max(...values)),
        formatRate(1e9 / middle),
        formatRatio(middle / median(perCall(OPOSSUM))),
      ];
    }),
  );

  const registryNs = median(perCall(REGISTRY));
  const opossumNs = median(perCall(OPOSSUM));
  const roundRatios = perCall(REGISTRY).map((ns, round) => ns / perCall(OPOSSUM)[round]!);
  console.log(
    `registry/opossum, round by round: median ${formatRatio(median(roundRatios))}, ` +
      `best rounds ${formatRatio(Math.min(...perCall(REGISTRY)) / Math.min(...perCall(OPOSSUM)))}` +
      ` (goal <= ${formatRatio(GOAL)})`,
  );

  registry.dispose();
  same.shutdown();
  defaults.shutdown();

  return [
    {
      benchmark: 'hot path: registry.wrap / opossum',
      baseline: `${formatNs(opossumNs)}/call`,
      measured: `${formatNs(registryNs)}/call`,
      ratio: formatRatio(registryNs / opossumNs),
      paired: formatRatio(median(roundRatios)),
      goal: `<= ${formatRatio(GOAL)}`,
      verdict: timedVerdict(registryNs / opossumNs <= GOAL, median(roundRatios) <= GOAL),
    },
  ];
}
