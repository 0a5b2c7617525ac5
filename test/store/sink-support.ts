import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { afterEach, vi } from 'vitest';

import { createOps, type M28Ops, type M28Store, type OpsOptions } from '../../src/index.js';

/** A provider name that no other test, on either backend, uses. */
export function uniqueProvider(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

/** Waits `ms` of real time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A provider call that answers after `ms`. */
export const slowly = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** The persisted health row of one provider, counters as numbers. */
export interface HealthRow {
  status: string;
  circuit_breaker_state: string;
  circuit_breaker_failures: number;
  circuit_breaker_next_attempt: string | null;
  total_calls: number;
  total_successes: number;
  total_failures: number;
  total_rejects: number;
  total_timeouts: number;
}

/** Reads a provider's health row as the superuser the tests connect as. */
export async function healthRow(
  store: M28Store,
  provider: string,
  service: string,
): Promise<HealthRow | undefined> {
  const [row] = await store.query<HealthRow>(sql`
    select status::text, circuit_breaker_state::text, circuit_breaker_failures,
      circuit_breaker_next_attempt::text, total_calls::int, total_successes::int,
      total_failures::int, total_rejects::int, total_timeouts::int
    from m28.provider_health_status
    where provider_name = ${provider} and service_type = ${service}`);

  return row;
}

/** One persisted operational event. */
export interface EventRow {
  event_key: string | null;
  service_type: string;
  event_type: string;
  severity: string;
}

/** A provider's operational events, oldest first. */
export function eventRows(store: M28Store, provider: string): Promise<EventRow[]> {
  return store.query<EventRow>(sql`
    select event_key::text, service_type, event_type, severity::text
    from m28.provider_operational_events
    where provider_name = ${provider}
    order by id`);
}

/** Counts of `rows` by event type. */
export function countByType(rows: readonly EventRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    counts[row.event_type] = (counts[row.event_type] ?? 0) + 1;
  }

  return counts;
}

/**
 * Builds facades on a migrated test store, and closes every one of them after each test, so
 * that a failed assertion leaves no timer behind.
 */
export function useOps(): (options: OpsOptions) => M28Ops {
  const opened: M28Ops[] = [];
  afterEach(async () => {
    // A spy that hangs the store would hold up close() until the store timeout.
    vi.restoreAllMocks();
    await Promise.all(opened.splice(0).map((ops) => ops.close()));
  });

  return (options) => {
    const ops = createOps({ migrate: false, ...options });
    opened.push(ops);

    return ops;
  };
}
