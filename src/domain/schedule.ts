import type { RotationSchedule } from './vocabularies.js';

const MONTHS: Partial<Record<RotationSchedule, number>> = { monthly: 1, quarterly: 3, annual: 12 };
const DAYS: Partial<Record<RotationSchedule, number>> = { daily: 1, weekly: 7 };

/** Adds calendar months in UTC, clamping to the last day of the target month. */
function addMonthsUtc(from: Date, months: number): Date {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  const firstOfMonth = new Date(from.getTime());
  firstOfMonth.setUTCFullYear(year, month, 1);
  const lastDay = new Date(firstOfMonth.getTime());
  lastDay.setUTCFullYear(firstOfMonth.getUTCFullYear(), firstOfMonth.getUTCMonth() + 1, 0);
  const result = new Date(firstOfMonth.getTime());
  result.setUTCDate(Math.min(from.getUTCDate(), lastDay.getUTCDate()));

  return result;
}

/**
 * The next rotation after `from`, in UTC calendar arithmetic, as `m28.next_rotation_after()`
 * computes it in SQL: daily +1 day, weekly +7 days, monthly +1 month clamped at the month's
 * end (Jan 31 → Feb 28 or 29), quarterly +3 months, annual +1 year (Feb 29 → Feb 28);
 * `manual` has none.
 */
export function nextRotationAfter(schedule: RotationSchedule, from: Date): Date | null {
  const days = DAYS[schedule];
  if (days !== undefined) {
    return new Date(from.getTime() + days * 86_400_000);
  }

  const months = MONTHS[schedule];

  return months === undefined ? null : addMonthsUtc(from, months);
}

/** The weekly review's word for a secret's schedule: overdue, due within 7 days, or fine. */
export type RotationReview = 'OVERDUE' | 'DUE_SOON' | 'OK';

/** Classifies a next rotation date as the spec's weekly secrets review does. */
export function reviewRotation(
  nextRotationAt: Date | null,
  now: Date = new Date(),
): RotationReview {
  if (nextRotationAt === null) {
    return 'OK';
  }
  if (nextRotationAt.getTime() < now.getTime()) {
    return 'OVERDUE';
  }

  return nextRotationAt.getTime() < now.getTime() + 7 * 86_400_000 ? 'DUE_SOON' : 'OK';
}
