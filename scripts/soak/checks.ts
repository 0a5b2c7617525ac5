/**
 * The soak's invariants, each line PASS or FAIL. The thresholds are stated with the lines.
 */
import type { Persisted } from './database.js';
import { INSTANCES, PROVIDERS, type InstanceReport } from './plan.js';

export interface Check {
  readonly ok: boolean;
  readonly line: string;
}

/** Heap: mean of the last third of samples over the first third, less than +30%. */
export const HEAP_GROWTH_LIMIT = 0.3;
/** Handles: mean of the last third minus the first third, fewer than 20. */
export const HANDLE_GROWTH_LIMIT = 20;
/** Fewer samples than this after warm-up cannot tell a trend. */
const MIN_SAMPLES = 6;

const check = (ok: boolean, id: string, text: string): Check => ({
  ok,
  line: `${ok ? 'PASS' : 'FAIL'} (${id}) ${text}`,
});

// Sums over fewer instances than ran cannot match what all of them persisted.
const partial = (reports: InstanceReport[]) =>
  reports.length < INSTANCES ? ` (only ${reports.length} of ${INSTANCES} instances reported)` : '';
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const mean = (values: number[]) => (values.length ? sum(values) / values.length : NaN);

/**
 * (1) Counters conserved. A fire is refused (rejects), or reaches opossum and ends in exactly
 * one of 'success' or 'failure'; opossum's 'timeout' is followed by 'failure', so timeouts
 * are counted inside failures. With no call in flight:
 * fires = successes + failures + rejects, and timeouts <= failures.
 */
export function conserved(reports: InstanceReport[]): Check[] {
  return reports.flatMap((report) =>
    PROVIDERS.map((key) => {
      const c = report.counters[key];
      if (!c) {
        return check(false, '1', `instance ${report.index} ${key}: no counters reported`);
      }
      const ok = c.fires === c.successes + c.failures + c.rejects && c.timeouts <= c.failures;

      return check(
        ok,
        '1',
        `counters conserved, instance ${report.index} ${key}: fires ${c.fires} = successes ` +
          `${c.successes} + failures ${c.failures} + rejects ${c.rejects}; ` +
          `timeouts ${c.timeouts} <= failures`,
      );
    }),
  );
}

const FIELDS = [
  ['total_calls', 'fires'],
  ['total_successes', 'successes'],
  ['total_failures', 'failures'],
  ['total_rejects', 'rejects'],
  ['total_timeouts', 'timeouts'],
] as const;

/** (2) provider_health_status.total_* equal the sums over the instances' final counters. */
export function persistedEqualsMemory(reports: InstanceReport[], db: Persisted): Check[] {
  return PROVIDERS.map((key) => {
    const row = db.health.get(key);
    const parts = FIELDS.map(([column, field]) => {
      const memory = sum(reports.map((r) => r.counters[key]?.[field] ?? 0));
      const stored = row?.[column];

      return { text: `${column} ${stored ?? 'none'} vs ${memory}`, ok: stored === memory };
    });

    return check(
      parts.every((p) => p.ok),
      '2',
      `persisted equals in-memory, ${key}: ${parts.map((p) => p.text).join(', ')}` +
        partial(reports),
    );
  });
}

/** (3) Every breaker:open and breaker:close event has its row, and no more rows. */
export function noLostTransition(reports: InstanceReport[], db: Persisted): Check[] {
  return PROVIDERS.map((key) => {
    const opens = sum(reports.map((r) => r.opens[key] ?? 0));
    const closes = sum(reports.map((r) => r.closes[key] ?? 0));
    const rows = db.transitions.get(key) ?? { open: 0, close: 0 };

    return check(
      rows.open === opens && rows.close === closes,
      '3',
      `no lost transition, ${key}: breaker:open events ${opens} vs breaker_open rows ` +
        `${rows.open}; breaker:close events ${closes} vs breaker_close rows ${rows.close}` +
        partial(reports),
    );
  });
}

/** (4) At most one open rotation per secret, ever seen; completions <= times made due. */
export function noDuplicateRotation(
  db: Persisted,
  madeDue: Map<string, number>,
  duplicatesSeen: number,
  polls: number,
): Check[] {
  const lines = [
    check(
      duplicatesSeen === 0 && db.rotations.every((r) => r.open <= 1),
      '4',
      `no duplicate rotation: secrets with 2+ in_progress rows: ${duplicatesSeen} in ${polls} ` +
        `polls during the run, ${db.rotations.filter((r) => r.open > 1).length} at the end`,
    ),
  ];
  for (const r of db.rotations) {
    const due = madeDue.get(r.secretId) ?? 0;
    lines.push(
      check(
        r.completed <= due,
        '4',
        `no duplicate rotation, ${r.label}: completed ${r.completed} <= made due ${due}`,
      ),
    );
  }

  return lines;
}

/** (5) Heap and handles flat: last third of the samples after warm-up against the first. */
export function flat(reports: InstanceReport[]): Check[] {
  return reports.map((report) => {
    const n = Math.min(report.heap.length, report.handles.length);
    if (n < MIN_SAMPLES) {
      return check(false, '5', `instance ${report.index}: only ${n} samples after warm-up`);
    }
    const third = Math.floor(n / 3);
    const first = (values: number[]) => mean(values.slice(0, third));
    const last = (values: number[]) => mean(values.slice(n - third, n));
    const heapGrowth = last(report.heap) / first(report.heap) - 1;
    const handleGrowth = last(report.handles) - first(report.handles);
    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

    return check(
      heapGrowth < HEAP_GROWTH_LIMIT && handleGrowth < HANDLE_GROWTH_LIMIT,
      '5',
      `heap and handles flat, instance ${report.index} (${n} samples, thirds of ${third}): ` +
        `heap ${mb(first(report.heap))} -> ${mb(last(report.heap))} MB ` +
        `(${(heapGrowth * 100).toFixed(1)}% < ${HEAP_GROWTH_LIMIT * 100}%), handles ` +
        `${first(report.handles).toFixed(1)} -> ${last(report.handles).toFixed(1)} ` +
        `(+${handleGrowth.toFixed(1)} < ${HANDLE_GROWTH_LIMIT})`,
    );
  });
}

/**
 * (0) The run exercised what the invariants are about; otherwise they hold vacuously.
 */
export function exercised(
  reports: InstanceReport[],
  db: Persisted,
  fault: { terminated: number; midTransaction: boolean },
): Check[] {
  const opens = (key: string) => sum(reports.map((r) => r.opens[key] ?? 0));
  const closes = (key: string) => sum(reports.map((r) => r.closes[key] ?? 0));
  const timeouts = sum(reports.map((r) => r.counters['fcm/push']?.timeouts ?? 0));
  const driver = reports.find((r) => r.driver)?.driver ?? {};
  const completed = db.byStatus.completed ?? 0;

  return [
    check(
      opens('twilio/sms') > 0 && closes('twilio/sms') > 0,
      '0',
      `twilio outage opened and closed breakers: ${opens('twilio/sms')} opens, ` +
        `${closes('twilio/sms')} closes`,
    ),
    check(
      timeouts > 0 && opens('fcm/push') > 0,
      '0',
      `fcm slowness timed out: ${timeouts} timeouts, ${opens('fcm/push')} opens`,
    ),
    check(
      (driver.disables ?? 0) > 0 && (driver.enables ?? 0) === (driver.disables ?? 0),
      '0',
      `toggles: ${driver.disables ?? 0} disables, ${driver.enables ?? 0} enables`,
    ),
    check(
      completed > 0 && (driver.completes ?? 0) > 0 && (driver.cancels ?? 0) > 0,
      '0',
      `rotations: ${JSON.stringify(db.byStatus)}; driver ${JSON.stringify(driver)}`,
    ),
    check(
      fault.terminated > 0,
      '0',
      `database fault: ${fault.terminated} connections terminated, ` +
        `${fault.midTransaction ? 'one of them' : 'none'} inside a transaction`,
    ),
  ];
}
