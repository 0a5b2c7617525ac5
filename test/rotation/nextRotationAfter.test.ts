import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { nextRotationAfter, ROTATION_SCHEDULES, type RotationSchedule } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

const DAY_MS = 86_400_000;
const dates = fc.date({
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('2200-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});
const MONTHS = { monthly: 1, quarterly: 3, annual: 12 } as const;
const calendarSchedules = fc.constantFrom(...(Object.keys(MONTHS) as (keyof typeof MONTHS)[]));
const timed = fc.constantFrom(...ROTATION_SCHEDULES.filter((s) => s !== 'manual'));

const at = (iso: string) => new Date(iso);
const lastDayOf = (year: number, month: number) =>
  new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

describe('nextRotationAfter', () => {
  it('returns a time after `from` for every schedule but manual', () => {
    fc.assert(
      fc.property(dates, timed, (from, schedule) => {
        expect(nextRotationAfter(schedule, from)!.getTime()).toBeGreaterThan(from.getTime());
      }),
    );
  });

  it('adds exactly 86 400 000 ms for daily and 604 800 000 ms for weekly', () => {
    fc.assert(
      fc.property(dates, (from) => {
        expect(nextRotationAfter('daily', from)!.getTime() - from.getTime()).toBe(DAY_MS);
        expect(nextRotationAfter('weekly', from)!.getTime() - from.getTime()).toBe(7 * DAY_MS);
      }),
    );
  });

  it('moves monthly, quarterly and annual by calendar months, keeping the time of day', () => {
    fc.assert(
      fc.property(dates, calendarSchedules, (from, schedule) => {
        const next = nextRotationAfter(schedule, from)!;
        const months = from.getUTCFullYear() * 12 + from.getUTCMonth() + MONTHS[schedule];

        expect(next.getUTCFullYear()).toBe(Math.floor(months / 12));
        expect(next.getUTCMonth()).toBe(months % 12);
        expect(next.getTime() % DAY_MS).toBe(from.getTime() % DAY_MS);
      }),
    );
  });

  it('keeps the day of the month, or takes the last day of a shorter month', () => {
    fc.assert(
      fc.property(dates, calendarSchedules, (from, schedule) => {
        const next = nextRotationAfter(schedule, from)!;
        const last = lastDayOf(next.getUTCFullYear(), next.getUTCMonth());

        expect(next.getUTCDate()).toBe(Math.min(from.getUTCDate(), last));
      }),
    );
  });

  it('returns null for manual', () => {
    fc.assert(
      fc.property(dates, (from) => {
        expect(nextRotationAfter('manual', from)).toBeNull();
      }),
    );
  });

  it('clamps Jan 31 to Feb 28 in a common year and Feb 29 in a leap year', () => {
    expect(nextRotationAfter('monthly', at('2027-01-31T10:11:12.345Z'))).toEqual(
      at('2027-02-28T10:11:12.345Z'),
    );
    expect(nextRotationAfter('monthly', at('2028-01-31T23:59:59.999Z'))).toEqual(
      at('2028-02-29T23:59:59.999Z'),
    );
  });

  it('maps Feb 29 to Feb 28 of the next year for annual', () => {
    expect(nextRotationAfter('annual', at('2028-02-29T08:00:00.000Z'))).toEqual(
      at('2029-02-28T08:00:00.000Z'),
    );
  });

  it('clamps quarterly from Nov 30 to Feb 29 and keeps Jan 15 as Apr 15', () => {
    expect(nextRotationAfter('quarterly', at('2027-11-30T05:00:00.000Z'))).toEqual(
      at('2028-02-29T05:00:00.000Z'),
    );
    expect(nextRotationAfter('quarterly', at('2024-01-15T00:00:00.000Z'))).toEqual(
      at('2024-04-15T00:00:00.000Z'),
    );
  });

  it('crosses a year end', () => {
    expect(nextRotationAfter('monthly', at('2027-12-31T00:00:00.000Z'))).toEqual(
      at('2028-01-31T00:00:00.000Z'),
    );
    expect(nextRotationAfter('daily', at('2027-12-31T12:00:00.000Z'))).toEqual(
      at('2028-01-01T12:00:00.000Z'),
    );
  });

  it('handles the years 0 to 99 as themselves, not as 1900 to 1999', () => {
    expect(nextRotationAfter('monthly', at('0050-01-31T05:00:00.000Z'))).toEqual(
      at('0050-02-28T05:00:00.000Z'),
    );
  });
});

describe.each(backends)('nextRotationAfter against m28.next_rotation_after on %s', (backend) => {
  const database = useDatabase(backend);

  async function inSql(schedule: RotationSchedule, from: Date): Promise<Date | null> {
    const [row] = await database().store.query<{ next: string | null }>(sql`
      select to_char(
        m28.next_rotation_after(${schedule}::m28.rotation_schedule,
          ${from.toISOString()}::timestamptz) at time zone 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as next`);

    return row!.next === null ? null : new Date(row!.next);
  }

  it('agrees with the SQL function for random dates and schedules', async () => {
    await fc.assert(
      fc.asyncProperty(dates, fc.constantFrom(...ROTATION_SCHEDULES), async (from, schedule) => {
        expect(await inSql(schedule, from)).toEqual(nextRotationAfter(schedule, from));
      }),
      { numRuns: 50 },
    );
  });

  it('agrees with the SQL function at month ends and on Feb 29', async () => {
    const edges = ['2027-01-31T10:00:00.500Z', '2028-01-31T00:00:00Z', '2028-02-29T23:59:59Z'];
    for (const iso of edges) {
      for (const schedule of ROTATION_SCHEDULES) {
        expect(await inSql(schedule, at(iso))).toEqual(nextRotationAfter(schedule, at(iso)));
      }
    }
  });
});
