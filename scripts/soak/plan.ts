/**
 * The soak's shared plan: how many instances, which providers, the fault schedule (derived
 * from the run's length, so a 20 s and a 60 s run go through the same phases), and the shape
 * of the report each instance prints at the end.
 */

export const INSTANCES = 4;
export const PROVIDERS = ['stripe/payment', 'twilio/sms', 'fcm/push'] as const;
export type ProviderKey = (typeof PROVIDERS)[number];

/** Secrets: the scheduler rotates `AUTO_SCOPE` itself; the driver handles `MANUAL_SCOPE`. */
export const AUTO_SCOPE = 'soak-auto';
export const MANUAL_SCOPE = 'soak-manual';
export const AUTO_KEYS = ['key_a1', 'key_a2', 'key_a3', 'key_a4'];
export const MANUAL_KEYS = ['key_m1', 'key_m2', 'key_m3', 'key_m4', 'key_m5', 'key_m6'];

/** Breaker tuning: fast enough that 20 s see every transition more than once. */
export const BREAKER = { failureThreshold: 5, resetTimeoutMs: 1000, timeoutMs: 250 } as const;
/** Calls past this many ms time out; an fcm call during its slow phase takes longer. */
export const SLOW_CALL_MS = 400;
/**
 * The drain tail: after the traffic, one last call per provider, in turn, each inside the
 * timeout. Together they last longer than the flush interval (500 ms), so a flush lands
 * while one is in flight, and it is its provider's last call: what the final flush writes
 * must still count its outcome.
 */
export const TAIL_CALL_MS = 200;

/** Milliseconds since the start of the run. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/** The fault schedule of one run, in ms since `t0`. */
export interface Plan {
  readonly seconds: number;
  readonly durationMs: number;
  /** Heap and handle samples start after this. */
  readonly warmUpMs: number;
  /** Every twilio/sms call fails. */
  readonly twilioFails: Window;
  /** Every fcm/push call takes longer than the breaker's timeout. */
  readonly fcmSlow: Window;
  /** The parent terminates every connection to the soak database, once. */
  readonly dbFaultAt: number;
  /** The driver disables and re-enables a provider, every `togglePeriodMs`, in this window. */
  readonly toggles: Window;
  readonly togglePeriodMs: number;
  /** The parent makes rotated secrets due again this often. */
  readonly makeDueEveryMs: number;
}

export function planFor(seconds: number): Plan {
  const ms = seconds * 1000;
  const phase = Math.min(5000, ms / 4);
  const at = (fraction: number) => Math.round(ms * fraction);

  return {
    seconds,
    durationMs: ms,
    warmUpMs: Math.max(3000, at(0.2)),
    twilioFails: { from: at(0.15), to: at(0.15) + phase },
    fcmSlow: { from: at(0.4), to: at(0.4) + phase },
    dbFaultAt: at(0.55),
    toggles: { from: at(0.1), to: at(0.85) },
    togglePeriodMs: 3000,
    makeDueEveryMs: 4000,
  };
}

export const within = (window: Window, elapsed: number) =>
  elapsed >= window.from && elapsed < window.to;

/** What one call to a provider does at `elapsed` ms into the run. */
export function behaviour(
  plan: Plan,
  key: ProviderKey,
  elapsed: number,
  random: () => number = Math.random,
): { delayMs: number; fail: boolean } {
  if (key === 'twilio/sms' && within(plan.twilioFails, elapsed)) {
    return { delayMs: 2, fail: true };
  }
  if (key === 'fcm/push' && within(plan.fcmSlow, elapsed)) {
    return { delayMs: SLOW_CALL_MS, fail: false };
  }
  // Healthy: mostly quick, now and then slow but inside the timeout, rarely a failure.
  const roll = random();
  const delayMs = roll < 0.03 ? 100 + Math.floor(random() * 100) : 2 + Math.floor(random() * 12);

  return { delayMs, fail: key === 'stripe/payment' && random() < 0.01 };
}

/** A breaker's counters, as `ops.breakers.list()` reports them. */
export interface Counters {
  fires: number;
  successes: number;
  failures: number;
  timeouts: number;
  rejects: number;
}

/** The last line an instance prints. */
export interface InstanceReport {
  event: 'report';
  index: number;
  counters: Record<string, Counters>;
  opens: Record<string, number>;
  closes: Record<string, number>;
  halfOpens: Record<string, number>;
  heap: number[];
  handles: number[];
  sink: Record<string, number>;
  dropped: number;
  errors: number;
  errorSamples: string[];
  rotations: { started: number; completed: number; cancelled: number; failed: number };
  driver?: Record<string, number>;
}
