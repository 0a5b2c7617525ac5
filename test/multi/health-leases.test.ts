/**
 * Many instances, one database: four processes monitor the same providers with a health check
 * that reports every invocation. With leases (the default) a provider is checked once per
 * interval across all of them, not four times; with `leaseChecks: false` every process checks.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { connectPostgres, type M28Store } from '../../src/index.js';
import { createDatabase, useChildren, type Child, type Message } from './children.js';

const INSTANCES = 4;
const INTERVAL_MS = 500;
// Leases last 0.9 of an interval: in a window of up to 10 intervals whose first tick comes an
// interval after its start, at most floor(window / interval) + 1 leased checks fit.
const LEASED_RUN_MS = 8.5 * INTERVAL_MS;
const UNLEASED_RUN_MS = 3.5 * INTERVAL_MS;
// Leased checks start at least 0.9 of an interval apart, give or take the claim's round trip;
// the instances tick within milliseconds of each other, so two checks in one interval would be
// much closer than this.
const MIN_GAP_MS = INTERVAL_MS / 4;
const LEASED = ['stripe/payment', 'twilio/sms'];
const UNLEASED = ['fcm/push', 'sendgrid/email'];

interface Check {
  instance: number;
  key: string;
  at: number;
}

interface Run {
  /** Checks invoked between the `go` and the `stop`, by key, in time order. */
  byKey: Record<string, Check[]>;
  windowMs: number;
  /** The counts each instance reported when it stopped, checks after the window included. */
  counts: Record<string, number>[];
  /** Every check event of the run, checks after the window included. */
  events: Check[];
  errors: Message[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Smallest time between two consecutive checks, from whichever instances. */
const minGap = (checks: readonly Check[]) =>
  Math.min(...checks.slice(1).map((check, i) => check.at - checks[i]!.at));

describe.runIf(process.env.DATABASE_URL)(
  `health-check leases across ${INSTANCES} processes (needs PostgreSQL in DATABASE_URL)`,
  () => {
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    let store: M28Store;
    beforeAll(async () => {
      database = await createDatabase(inject('postgresTemplate'));
      store = await connectPostgres(database.url, { max: 1 });
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    // Registered after the database's hooks, so that it runs before them.
    const spawnChild = useChildren();
    let instances: Child[] = [];

    beforeAll(async () => {
      instances = Array.from({ length: INSTANCES }, (_, i) =>
        spawnChild('multi-health-instance.ts', `monitor-${i}`, { M28_URL: database!.url }),
      );
      await Promise.all(
        instances.map((child) => child.waitFor((m) => m.event === 'ready', 25_000)),
      );
    }, 40_000);

    /** Starts createOps() on every instance at once, lets it run `runMs`, and stops it. */
    async function run(keys: string[], leaseChecks: boolean, runMs: number): Promise<Run> {
      const marks = instances.map((child) => child.messages.length);
      const goAt = Date.now();
      const go = { cmd: 'go', providers: keys, intervalMs: INTERVAL_MS, leaseChecks };
      instances.forEach((child) => child.send(go));
      await Promise.all(
        instances.map((child, i) => child.waitFor((m) => m.event === 'started', 10_000, marks[i])),
      );
      await sleep(goAt + runMs - Date.now());
      const stopAt = Date.now();
      instances.forEach((child) => child.send({ cmd: 'stop' }));
      const stopped = await Promise.all(
        instances.map((child, i) => child.waitFor((m) => m.event === 'stopped', 10_000, marks[i])),
      );

      const since = (child: Child, i: number) => child.messages.slice(marks[i]);
      const events = instances.flatMap((child, i) =>
        since(child, i)
          .filter((m) => m.event === 'check')
          .map((m) => ({ instance: i, key: m.key as string, at: m.at as number })),
      );
      const inWindow = events.filter((check) => check.at >= goAt && check.at <= stopAt);
      const byKey = Object.fromEntries(
        keys.map((key) => [
          key,
          inWindow.filter((check) => check.key === key).sort((a, b) => a.at - b.at),
        ]),
      );

      return {
        byKey,
        windowMs: stopAt - goAt,
        counts: stopped.map((m) => m.counts as Record<string, number>),
        events,
        errors: instances.flatMap((child, i) => since(child, i).filter((m) => m.event === 'error')),
      };
    }

    const describeRun = ({ byKey, windowMs }: Run) =>
      Object.entries(byKey)
        .map(([key, checks]) => {
          const per = Array.from(
            { length: INSTANCES },
            (_, i) => checks.filter((check) => check.instance === i).length,
          );
          const gap = checks.length > 1 ? minGap(checks) : NaN;
          const count = `${checks.length} checks in ${windowMs} ms (${per.join('+')})`;

          return `${key}: ${count}, min gap ${gap} ms`;
        })
        .join('; ');

    it(`checks each provider once per interval, not ${INSTANCES} times`, async (t) => {
      const result = await run(LEASED, true, LEASED_RUN_MS);
      await t.annotate(`leases on, ${describeRun(result)}`);

      expect(result.errors).toEqual([]);
      const intervals = Math.floor(result.windowMs / INTERVAL_MS);
      for (const key of LEASED) {
        const checks = result.byKey[key]!;
        // About one per interval: the first interval has no tick, and a loaded machine may
        // push a tick past the end of the window.
        expect(checks.length, describeRun(result)).toBeGreaterThanOrEqual(intervals - 2);
        expect(checks.length, describeRun(result)).toBeLessThanOrEqual(intervals + 1);
        expect(checks.length).toBeLessThan(INSTANCES * intervals);
        // No two instances checked in the same interval.
        expect(minGap(checks), describeRun(result)).toBeGreaterThanOrEqual(MIN_GAP_MS);
      }
      // What the instances counted themselves agrees with what they reported.
      for (const [i, counts] of result.counts.entries()) {
        for (const key of LEASED) {
          const reported = result.events.filter((e) => e.instance === i && e.key === key);
          expect(counts[key]).toBe(reported.length);
        }
      }

      const leases = await store.query<{ key: string; owner: string | null }>(
        sql`select provider_name || '/' || service_type as key, health_check_lease_owner as owner
          from m28.provider_health_status order by 1`,
      );
      expect(leases.map((row) => row.key)).toEqual(LEASED);
      expect(leases.every((row) => typeof row.owner === 'string' && row.owner !== '')).toBe(true);
    });

    it('without leases, every instance checks every interval (the control)', async (t) => {
      const result = await run(UNLEASED, false, UNLEASED_RUN_MS);
      await t.annotate(`leases off, ${describeRun(result)}`);

      expect(result.errors).toEqual([]);
      const intervals = Math.floor(result.windowMs / INTERVAL_MS);
      for (const key of UNLEASED) {
        const checks = result.byKey[key]!;
        // The counting above would have caught it: more than the leased bound, from everyone.
        expect(checks.length, describeRun(result)).toBeGreaterThan(intervals + 1);
        expect(new Set(checks.map((check) => check.instance)).size).toBe(INSTANCES);
        expect(minGap(checks)).toBeLessThan(MIN_GAP_MS);
      }
      // No lease was claimed for them.
      const owners = await store.query<{ n: number }>(
        sql`select count(*)::int as n from m28.provider_health_status
          where provider_name in ('fcm', 'sendgrid') and health_check_lease_owner is not null`,
      );
      expect(owners[0]?.n).toBe(0);
    });

    it('every instance exits cleanly when told', async () => {
      instances.forEach((child) => child.send({ cmd: 'exit' }));
      const exits = await Promise.all(instances.map((child) => child.exited));

      expect(exits.map((exit) => [exit.code, exit.stderr])).toEqual(Array(INSTANCES).fill([0, '']));
    });
  },
);
