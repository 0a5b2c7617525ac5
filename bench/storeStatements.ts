import { createOps, type M28Store, type StoreSinkStats } from '../src/index.js';
import { runCalls, sleep } from './support/measure.js';
import { PROVIDERS, wrapProviders } from './support/providers.js';
import {
  formatCount,
  formatMs,
  formatRatio,
  printTable,
  verdict,
  type SummaryRow,
} from './support/report.js';
import { FLUSH_INTERVAL_MS } from './storeThroughput.js';

const MANY_CALLS = 1_000_000;
const FEW_CALLS = 100_000;
/** Most the paced run's statements may exceed the fast run's, for noise in the timing. */
const SAME_DURATION_GOAL = 1.5;

/** What one run of calls with the store attached wrote. */
interface CountRun {
  readonly label: string;
  readonly calls: number;
  /** Nanoseconds from the first call to `ops.close()` resolving, its final flush included. */
  readonly elapsedNs: number;
  /** Flush intervals that elapsed in that time. */
  readonly intervals: number;
  readonly stats: Readonly<StoreSinkStats>;
}

/**
 * Spreads `calls` calls evenly over `durationNs`: a burst every half flush interval, so
 * that every interval sees calls, as it does when the calls are made as fast as possible.
 */
async function runPaced(
  call: (index: number) => Promise<unknown>,
  calls: number,
  durationNs: number,
): Promise<void> {
  const slices = Math.max(100, Math.ceil(durationNs / 1e6 / (FLUSH_INTERVAL_MS / 2)));
  const perSlice = Math.ceil(calls / slices);
  const start = process.hrtime.bigint();
  for (let done = 0, slice = 1; done < calls; done += perSlice, slice += 1) {
    const offset = done;
    await runCalls((index) => call(offset + index), Math.min(perSlice, calls - done));
    const waitNs = (slice * durationNs) / slices - Number(process.hrtime.bigint() - start);
    if (waitNs > 0) {
      await sleep(waitNs / 1e6);
    }
  }
}

/** Makes `calls` calls with the store attached, as fast as possible or over `durationNs`. */
async function countRun(
  store: M28Store,
  label: string,
  calls: number,
  durationNs?: number,
): Promise<CountRun> {
  const ops = createOps({ store, providers: PROVIDERS, flushIntervalMs: FLUSH_INTERVAL_MS });
  await ops.start();
  const call = wrapProviders(ops);
  const start = process.hrtime.bigint();
  if (durationNs === undefined) {
    await runCalls(call, calls);
  } else {
    await runPaced(call, calls, durationNs);
  }
  await ops.close();
  const elapsedNs = Number(process.hrtime.bigint() - start);

  return {
    label,
    calls,
    elapsedNs,
    intervals: Math.floor(elapsedNs / 1e6 / FLUSH_INTERVAL_MS),
    stats: ops.sink!.stats,
  };
}

/**
 * SQL statements the store's writer issues for 1,000,000 calls, for 100,000 calls, and for
 * 100,000 calls spread over the same time as the million: they follow the flush intervals
 * that elapse (and breaker transitions, of which there are none here), not the calls.
 */
export async function benchStoreStatements(
  backend: string,
  store: M28Store,
): Promise<SummaryRow[]> {
  const few = await countRun(store, `${formatCount(FEW_CALLS)}, fast`, FEW_CALLS);
  const many = await countRun(store, `${formatCount(MANY_CALLS)}, fast`, MANY_CALLS);
  const paced = await countRun(
    store,
    `${formatCount(FEW_CALLS)}, paced over the 1M run's time`,
    FEW_CALLS,
    many.elapsedNs,
  );

  console.log(
    `[${backend}] statements written by ops.sink, 10 providers, flush every ` +
      `${FLUSH_INTERVAL_MS} ms, all calls succeed (no transitions); elapsed includes close()`,
  );
  printTable(
    [
      'Run',
      'elapsed',
      'intervals',
      'flushes',
      'statements',
      'snapshot rows',
      'events',
      'calls/statement',
    ],
    [few, many, paced].map((run) => [
      `${run.label} (${backend})`,
      formatMs(run.elapsedNs),
      formatCount(run.intervals),
      formatCount(run.stats.flushes),
      formatCount(run.stats.statements),
      formatCount(run.stats.snapshots),
      formatCount(run.stats.events),
      formatCount(run.calls / Math.max(1, run.stats.statements)),
    ]),
  );
  const callsRatio = many.calls / few.calls;
  console.log(
    `[${backend}] 1M vs 100k fast: calls ${formatRatio(callsRatio)}, elapsed intervals ` +
      `${formatRatio(many.intervals / Math.max(1, few.intervals))}, statements ` +
      `${formatRatio(many.stats.statements / Math.max(1, few.stats.statements))}`,
  );

  const bound = 2 * (many.intervals + 1);
  const sameDuration = many.stats.statements / Math.max(1, paced.stats.statements);

  return [
    {
      benchmark: `statements (${backend}): 1M / 100k calls, same time`,
      baseline: `${formatCount(paced.stats.statements)} stmts`,
      measured: `${formatCount(many.stats.statements)} stmts`,
      ratio: formatRatio(sameDuration),
      goal: `<= ${formatRatio(SAME_DURATION_GOAL)}`,
      verdict: verdict(sameDuration <= SAME_DURATION_GOAL),
    },
    {
      benchmark: `statements (${backend}): 1M calls / 2 x (intervals+1)`,
      baseline: `${formatCount(bound)} stmts`,
      measured: `${formatCount(many.stats.statements)} stmts`,
      ratio: formatRatio(many.stats.statements / bound),
      goal: `<= ${formatRatio(1)}`,
      verdict: verdict(many.stats.statements <= bound),
    },
  ];
}
