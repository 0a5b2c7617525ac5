/**
 * One soak instance: createOps() on its own pool, mixed traffic to three providers following
 * the fault schedule, the rotation scheduler auto-starting due rotations (and rotating the
 * automated scope itself), and, in instance 0, the driver's toggles and manual rotations.
 * It prints `ready`, starts on {"cmd":"go","t0":...}, and at the end prints one `report`
 * line and exits by itself.
 *
 * Env: SOAK_URL, SOAK_INDEX, SOAK_SECONDS.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

import { connectPostgres, createOps, type Rotator } from '../../src/index.js';
import { runDriver } from './driver.js';
import { exitWith, messageOf, say, sleep } from './io.js';
import {
  AUTO_SCOPE,
  BREAKER,
  PROVIDERS,
  TAIL_CALL_MS,
  behaviour,
  planFor,
  type Counters,
  type InstanceReport,
  type ProviderKey,
} from './plan.js';

const url = process.env.SOAK_URL;
const index = Number(process.env.SOAK_INDEX ?? '0');
const seconds = Number(process.env.SOAK_SECONDS ?? '60');
if (!url || !Number.isInteger(index) || !(seconds > 0)) {
  exitWith(2, 'fatal', { message: 'SOAK_URL, SOAK_INDEX and SOAK_SECONDS are required' });
  await new Promise(() => undefined);
}

const plan = planFor(seconds);
const CONCURRENCY = 6;
// Bounds every traffic loop in count as well as in time.
const MAX_CALLS_PER_LOOP = seconds * 400;

const rotator: Rotator = {
  create: () => ({ value: randomBytes(32).toString('hex'), version: `v${Date.now()}-i${index}` }),
  apply: () => sleep(20),
  test: () => sleep(10),
  affectedServices: ['soak'],
};

const store = await connectPostgres(url!, { max: 4, applicationName: `m28-soak-${index}` });
const ops = createOps({
  store,
  migrate: false,
  providers: Object.fromEntries(PROVIDERS.map((key) => [key, { ...BREAKER }])),
  flushIntervalMs: 500,
  pollIntervalMs: 1000,
  storeTimeoutMs: 15_000,
  metricsIntervalMs: 5000,
  scheduler: {
    autoStart: true,
    // Slower than the driver's rounds, so that its manual starts win some of the races.
    intervalMs: 1500,
    batchSize: 10,
    rotationLeaseMs: 10_000,
    rotators: { [AUTO_SCOPE]: rotator },
  },
});

const tally = () => Object.fromEntries(PROVIDERS.map((key) => [key, 0])) as Record<string, number>;
const opens = tally();
const closes = tally();
const halfOpens = tally();
const rotations = { started: 0, completed: 0, cancelled: 0, failed: 0 };
let counting = true;
let dropped = 0;
let errors = 0;
const errorSamples: string[] = [];
const count = (into: Record<string, number>, e: { provider: string; service: string }) => {
  if (counting) {
    const key = `${e.provider}/${e.service}`;
    into[key] = (into[key] ?? 0) + 1;
  }
};
ops.on('breaker:open', (e) => count(opens, e));
ops.on('breaker:close', (e) => count(closes, e));
ops.on('breaker:half_open', (e) => count(halfOpens, e));
ops.on('store:dropped', (e) => (dropped += e.events));
ops.on('rotation:started', () => (rotations.started += 1));
ops.on('rotation:completed', () => (rotations.completed += 1));
ops.on('rotation:cancelled', () => (rotations.cancelled += 1));
ops.on('rotation:failed', () => (rotations.failed += 1));
ops.on('error', (error) => {
  errors += 1;
  if (errorSamples.length < 5) {
    errorSamples.push(messageOf(error));
  }
});

let t0 = 0;
const calls = Object.fromEntries(
  PROVIDERS.map((key) => {
    const [provider, service] = key.split('/') as [string, string];
    const fn = async (n: number, tailMs?: number) => {
      const { delayMs, fail } =
        tailMs === undefined
          ? behaviour(plan, key, Date.now() - t0)
          : { delayMs: tailMs, fail: false };
      await sleep(delayMs);
      if (fail) {
        throw Object.assign(new Error(`${key} is failing`), { code: 'EPROVIDER' });
      }

      return n;
    };

    return [key, ops.wrap(provider, service, fn)];
  }),
) as Record<ProviderKey, (n: number, tailMs?: number) => Promise<number>>;

function pick(): ProviderKey {
  const roll = Math.random();

  return roll < 0.5 ? 'stripe/payment' : roll < 0.8 ? 'twilio/sms' : 'fcm/push';
}

async function traffic(endAt: number): Promise<void> {
  for (let n = 0; n < MAX_CALLS_PER_LOOP && Date.now() < endAt; n += 1) {
    // Failures and refusals are the breaker's business here; the counters tell the story.
    await calls[pick()](n).catch(() => undefined);
    await sleep(2 + Math.floor(Math.random() * 6));
  }
}

const heap: number[] = [];
const handles: number[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
function sample(): void {
  gc?.();
  heap.push(process.memoryUsage().heapUsed);
  handles.push(process.getActiveResourcesInfo().length);
}

async function run(): Promise<void> {
  const endAt = t0 + plan.durationMs;
  await sleep(t0 - Date.now());
  let sampler: ReturnType<typeof setInterval> | undefined;
  const warm = setTimeout(() => {
    sample();
    sampler = setInterval(sample, 1000);
  }, plan.warmUpMs);
  const loops = Array.from({ length: CONCURRENCY }, () => traffic(endAt));
  const driver = index === 0 ? runDriver(ops, plan, t0) : Promise.resolve(undefined);
  await Promise.all(loops);
  for (const key of PROVIDERS) {
    await calls[key](-1, TAIL_CALL_MS).catch(() => undefined);
  }
  clearTimeout(warm);
  clearInterval(sampler);
  const driverStats = await driver;
  // Every call has settled: take the counters before close() disposes the breakers.
  const counters: Record<string, Counters> = {};
  for (const s of ops.breakers.list()) {
    const { fires, successes, failures, timeouts, rejects } = s.counters;
    counters[`${s.provider}/${s.service}`] = { fires, successes, failures, timeouts, rejects };
  }
  counting = false;
  finished = true;
  await ops.close();
  const report: InstanceReport = {
    event: 'report',
    index,
    counters,
    opens,
    closes,
    halfOpens,
    heap,
    handles,
    sink: { ...(ops.sink?.stats ?? {}) },
    dropped,
    errors,
    errorSamples,
    rotations,
    ...(driverStats ? { driver: driverStats } : {}),
  };
  await store.close();
  exitWith(0, 'report', report as unknown as Record<string, unknown>);
}

let running: Promise<void> | undefined;
let finished = false;
let ending = false;
function end(code: number, event: string, fields: Record<string, unknown>, force = false) {
  if (ending || (finished && !force)) {
    return;
  }
  ending = true;
  const closed = Promise.all([ops.close(), store.close()]).catch(() => undefined);
  void Promise.race([closed, sleep(5000)]).then(() => exitWith(code, event, fields));
}

// Bounded lifetime: the run, a start-up allowance, and time to close.
const lifetime = setTimeout(
  () => end(3, 'fatal', { message: 'lifetime over' }, true),
  (seconds + 90) * 1000,
);
lifetime.unref();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let command: { cmd?: string; t0?: number } = {};
  try {
    command = JSON.parse(line) as typeof command;
  } catch {
    say('stray', { line });
  }
  if (command.cmd === 'go' && !running && t0 === 0) {
    t0 = command.t0 ?? Date.now();
    running = run().catch((error: unknown) => {
      finished = false;
      end(1, 'fatal', { message: messageOf(error) });
    });
  }
});
// The parent went away: stop at once.
lines.on('close', () => end(0, 'ended', { why: 'stdin closed' }));
await ops.start();
say('ready', { index, pid: process.pid });
