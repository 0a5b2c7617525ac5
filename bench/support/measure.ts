import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Calls awaited together, as a server's concurrent requests would be. */
export const BATCH_SIZE = 1000;

/** One timed variant of a benchmark, run in turn with the others. */
export interface Variant {
  readonly name: string;
  /** Runs one round and returns its elapsed nanoseconds. */
  readonly run: () => Promise<number>;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;

  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Collects garbage a few times, letting weak callbacks and finalizers run in between. */
export async function collectGarbage(): Promise<void> {
  if (!globalThis.gc) {
    return;
  }

  for (let pass = 0; pass < 3; pass += 1) {
    globalThis.gc();
    await yieldToEventLoop();
  }
}

/**
 * Makes `calls` calls, awaited in batches with `Promise.all`, and yields to the event loop
 * after each batch so that timers (flushes, opossum's bucket rotation) run as they would in
 * a server. Returns the elapsed nanoseconds.
 */
export async function runCalls(
  call: (index: number) => Promise<unknown>,
  calls: number,
  batchSize = BATCH_SIZE,
): Promise<number> {
  const batch: Promise<unknown>[] = [];
  const start = process.hrtime.bigint();
  for (let done = 0; done < calls; done += batchSize) {
    const size = Math.min(batchSize, calls - done);
    batch.length = size;
    for (let i = 0; i < size; i += 1) {
      batch[i] = call(done + i);
    }
    await Promise.all(batch);
    await yieldToEventLoop();
  }

  return Number(process.hrtime.bigint() - start);
}

/**
 * Runs every variant once per round, alternating their order from round to round so that
 * neither always runs first, with a garbage collection before each run. Returns each
 * variant's elapsed nanoseconds per round.
 */
export async function interleave(
  variants: readonly Variant[],
  rounds: number,
): Promise<Map<string, number[]>> {
  const samples = new Map(variants.map((variant) => [variant.name, [] as number[]]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      await collectGarbage();
      samples.get(variant.name)!.push(await variant.run());
    }
  }

  return samples;
}

// A heap that shrinks by less than this between two collections has settled.
const SETTLED_BYTES = 256 * 1024;

/**
 * Heap in use right now, after collections repeated (at most 10 times) until the heap stops
 * shrinking: what optimised code held weakly can take more than one round to be let go.
 */
export async function heapUsedAfterGc(): Promise<number> {
  await collectGarbage();
  let used = process.memoryUsage().heapUsed;
  for (let round = 0; round < 10; round += 1) {
    await collectGarbage();
    const now = process.memoryUsage().heapUsed;
    const shrunk = used - now;
    used = now;
    if (shrunk < SETTLED_BYTES) {
      break;
    }
  }

  return used;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
