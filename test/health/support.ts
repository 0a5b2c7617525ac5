import { sql } from 'drizzle-orm';
import { vi } from 'vitest';

import { CircuitBreakerRegistry } from '../../src/breakers/CircuitBreakerRegistry.js';
import type { BreakerOptions } from '../../src/breakers/options.js';
import {
  ProviderHealthMonitor,
  type MonitorEvents,
  type ProviderHealthMonitorOptions,
} from '../../src/health/ProviderHealthMonitor.js';
import type { M28Store } from '../../src/store/M28Store.js';

/**
 * The timers the monitor and the breakers use. Microtasks stay real: promises, the monitor's
 * deferred evaluation and database I/O need them.
 */
export const FAKE_TIMERS = {
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
} satisfies Parameters<typeof vi.useFakeTimers>[0];

/** A monitor over its own registry, and everything it emitted. */
export function createMonitor(
  options: Omit<ProviderHealthMonitorOptions, 'registry'> & { breakers?: BreakerOptions } = {},
) {
  const { breakers, ...rest } = options;
  const registry = new CircuitBreakerRegistry(breakers ? { defaults: breakers } : {});
  const monitor = new ProviderHealthMonitor({ registry, ...rest });
  const events = record(monitor);

  return { registry, monitor, events };
}

/** Every event of the monitor, by name, in order. */
export function record(monitor: ProviderHealthMonitor) {
  const seen = {
    checked: [] as Parameters<MonitorEvents['health:checked']>[0][],
    status: [] as Parameters<MonitorEvents['provider:status']>[0][],
    toggle: [] as Parameters<MonitorEvents['provider:toggle']>[0][],
    reset: [] as Parameters<MonitorEvents['breaker:reset']>[0][],
    errors: [] as Error[],
  };
  monitor.on('health:checked', (result) => seen.checked.push(result));
  monitor.on('provider:status', (event) => seen.status.push(event));
  monitor.on('provider:toggle', (event) => seen.toggle.push(event));
  monitor.on('breaker:reset', (event) => seen.reset.push(event));
  monitor.on('error', (error) => seen.errors.push(error));

  return seen;
}

/** A check that never settles, and the signal it was given. */
export function hangingCheck() {
  const signals: AbortSignal[] = [];

  return {
    signals,
    check: (signal: AbortSignal) => {
      signals.push(signal);

      return new Promise<never>(() => undefined);
    },
  };
}

/** Resolves after `ms` milliseconds of (possibly fake) time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rows of the audit log, the operational events and the provider configs. */
export async function countRows(store: M28Store) {
  const [row] = await store.query<{ audit: number; events: number; configs: number }>(sql`
    select (select count(*)::int from m28.audit_log) as audit,
      (select count(*)::int from m28.provider_operational_events) as events,
      (select count(*)::int from m28.provider_config) as configs`);

  return row;
}

/** A provider's audit rows, oldest first. */
export const auditOf = (store: M28Store, provider: string) =>
  store.query<{ actor: string; action: string; reason: string; meta: { after: object } }>(sql`
    select actor, action, reason, meta from m28.audit_log
    where meta->>'provider' = ${provider} order by id`);

/** A provider's operational events, oldest first. */
export const eventsOf = (store: M28Store, provider: string) =>
  store.query<{ event_type: string; severity: string; actor: string }>(sql`
    select event_type, severity, actor from m28.provider_operational_events
    where provider_name = ${provider} order by created_at, id`);
