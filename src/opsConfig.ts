import { ValidationError } from './errors/ValidationError.js';
import type { ProviderHealthMonitor } from './health/ProviderHealthMonitor.js';
import {
  DEFAULT_ALERT_RULES,
  checkFailureWindowMs,
  type AlertRulesOptions,
} from './metrics/alertRules.js';
import type { OpsOptions } from './opsOptions.js';
import type { RotatorHooks } from './rotation/runRotator.js';

/**
 * The fields of `options` that are set: optional options take no explicit `undefined`.
 * @internal
 */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * The alert rules of `options`. Unless given, the health check failures window is fitted to
 * the longest check interval: see {@link checkFailureWindowMs}.
 * @internal
 */
export function alertRules(options: OpsOptions): AlertRulesOptions {
  const rules = options.alerts ?? {};
  const checks = rules.healthCheckFailures;
  if (checks?.windowMs !== undefined) {
    return rules;
  }

  // 3 failed checks in 5 minutes need a check every 100 s; the spec's interval is 300 s.
  const intervals = Object.values(options.providers ?? {}).map((p) => p.intervalMs ?? 0);
  const longest = Math.max(options.intervalMs ?? 300_000, ...intervals);
  const critical = checks?.critical ?? DEFAULT_ALERT_RULES.health_check_failures.critical;
  const windowMs = checkFailureWindowMs(critical, longest);

  return { ...rules, healthCheckFailures: { ...checks, windowMs } };
}

/**
 * The provider and the service of a `'provider/service'` key of {@link OpsOptions.providers}.
 * @throws {@link ValidationError} when `key` is not `'provider/service'`.
 * @internal
 */
export function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) {
    throw new ValidationError([
      { field: `providers.${key}`, rule: "keys are 'provider/service'", received: key },
    ]);
  }

  return [key.slice(0, slash), key.slice(slash + 1)];
}

/**
 * The scheduler's hooks: a rotator that asks for downtime puts its provider in maintenance
 * through the audited toggle, as the library's own identity.
 * @internal
 */
export function maintenanceHooks(monitor: ProviderHealthMonitor): RotatorHooks {
  const toggle = (provider: string, service: string, on: boolean, reason: string, until?: Date) =>
    monitor
      .toggle({
        provider,
        service,
        enabled: !on,
        maintenanceMode: on,
        reason,
        actor: 'rotation-scheduler',
        role: 'm28_system',
        ...(until ? { until } : {}),
      })
      .then(() => undefined);

  return {
    enterMaintenance: (provider, service, until, reason) =>
      toggle(provider, service, true, reason, until),
    exitMaintenance: (provider, service, reason) => toggle(provider, service, false, reason),
  };
}
