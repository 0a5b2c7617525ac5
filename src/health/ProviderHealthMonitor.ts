import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { deriveStatus } from '../domain/status.js';
import type { HealthStatus } from '../domain/vocabularies.js';
import type { M28Store } from '../store/M28Store.js';
import { BreakerWatch } from './BreakerWatch.js';
import { CheckRunner } from './CheckRunner.js';
import { CheckSchedule } from './CheckSchedule.js';
import { HealthCheckLease } from './HealthCheckLease.js';
import { toHealthResponse, toProviderHealth } from './healthResponse.js';
import { MaintenanceExpiry } from './MaintenanceExpiry.js';
import type { MonitorEvents } from './MonitorEvents.js';
import { LocalChanges, requireStore, toggleStateOf } from './OperatorChanges.js';
import { resolveIntervalMs, resolveMonitorOptions } from './options.js';
import type { ProviderHealthMonitorOptions } from './ProviderHealthMonitorOptions.js';
import { accessOf, keyOf } from './ProviderRecord.js';
import { ProviderRecords, type ToggleState } from './ProviderRecords.js';
import {
  callResetBreaker,
  callToggleProvider,
  parseToggleInput,
  type ResetBreakerInput,
  type ToggleInput,
} from './toggles.js';
import type { HealthCheck, HealthCheckResult, ProviderHealthResponse } from './types.js';

export type { MonitorEvents } from './MonitorEvents.js';
export type { ProviderHealthMonitorOptions } from './ProviderHealthMonitorOptions.js';
export type { ToggleState } from './ProviderRecords.js';

/**
 * Checks providers on an interval through their breakers, derives each one's status, and
 * applies operators' toggles. Statuses follow {@link deriveStatus}; thresholds are options.
 *
 * @example
 * ```ts
 * const monitor = new ProviderHealthMonitor({ registry, store, intervalMs: 60_000 });
 * monitor.register('stripe', 'payment', (signal) => stripe.balance.retrieve({ signal }));
 * monitor.start();
 * monitor.health({ provider: 'stripe' }); // the spec's Provider Health Response
 * ```
 */
export class ProviderHealthMonitor extends EventEmitter<MonitorEvents> {
  readonly #registry: CircuitBreakerRegistry;
  readonly #store: M28Store | undefined;
  readonly #intervalMs: number;
  readonly #records: ProviderRecords;
  readonly #runner: CheckRunner;
  readonly #schedule: CheckSchedule;
  readonly #expiry: MaintenanceExpiry | undefined;
  readonly #watch: BreakerWatch;
  // Toggles this instance is making, by key: their NOTIFY echo must not be taken as remote.
  readonly #localToggles = new LocalChanges();
  readonly #localResets = new LocalChanges();
  #started = false;

  /** @throws {@link ValidationError} when an option is out of range. */
  constructor(options: ProviderHealthMonitorOptions) {
    super();
    const tuning = resolveMonitorOptions(options);
    this.#registry = options.registry;
    this.#store = options.store;
    this.#intervalMs = tuning.intervalMs;
    this.#records = new ProviderRecords(tuning);
    this.#runner = new CheckRunner(
      this.#registry,
      tuning.checkTimeoutMs,
      tuning.maxConcurrentChecks,
    );
    this.#schedule = new CheckSchedule(
      new HealthCheckLease(options.store, options.leaseChecks ?? true),
      (provider, service) => this.check(provider, service),
      (error) => this.emit('error', error),
    );
    this.#expiry = options.store
      ? new MaintenanceExpiry(options.store, {
          untilOf: (provider, service) =>
            this.#records.find(provider, service)?.maintenanceUntil ?? null,
          apply: (provider, service, state, meta) =>
            this.applyToggle(provider, service, state, meta),
          error: (error) => this.emit('error', error),
        })
      : undefined;
    this.#watch = new BreakerWatch(this.#registry, () => this.evaluate());
    this.#watch.listen(true);
  }

  /**
   * Registers a health check for a provider and service, and its breaker. Checks run every
   * interval once the monitor has started.
   * @throws {@link ValidationError} for a blank name or a bad `intervalMs`.
   */
  register(
    provider: string,
    service: string,
    check?: HealthCheck,
    options: { intervalMs?: number } = {},
  ): void {
    const intervalMs = resolveIntervalMs(options.intervalMs, this.#intervalMs);
    this.#registry.register(provider, service);
    const record = this.#records.get(provider, service);
    record.check = check;
    record.intervalMs = intervalMs;
    if (this.#started) {
      this.#schedule.start(record);
    }
  }

  /** Starts the check timers, also after {@link ProviderHealthMonitor.close}. Idempotent. */
  start(): void {
    if (this.#started) {
      return;
    }

    this.#started = true;
    this.#watch.listen(true);
    this.#expiry?.resume();
    for (const record of this.#records.values()) {
      this.#schedule.start(record);
      this.#expiry?.arm(record.provider, record.service, record.maintenanceUntil);
    }
  }

  /** Stops every timer. Idempotent; checks in flight finish on their own. */
  close(): void {
    this.#started = false;
    for (const record of this.#records.values()) {
      this.#schedule.stop(record);
    }
    this.#expiry?.stop();
    this.#watch.listen(false);
  }

  /** Runs one provider's check now, through its breaker, as the spec's check function does. */
  async check(provider: string, service: string): Promise<HealthCheckResult> {
    const record = this.#records.get(provider, service);
    const result = await this.#runner.run(record, record.check);
    this.#records.recordCheck(record, result);
    this.emit('health:checked', result);
    this.evaluate();

    return result;
  }

  /** Runs every registered check now, within the concurrency bound. */
  async checkAll(): Promise<HealthCheckResult[]> {
    const records = [...this.#records.values()].filter((record) => record.check);

    return Promise.all(records.map((record) => this.check(record.provider, record.service)));
  }

  /**
   * Disables, enables or puts a provider in maintenance, through `m28.toggle_provider()`,
   * which writes the audit row. Calls are blocked here at once; other instances learn of it
   * over NOTIFY or polling. A maintenance window with `until` ends by itself.
   * @returns the provider's status after the toggle.
   * @throws {@link ValidationError} for bad input, before any query; {@link M28Error} with
   * code `M28_NO_STORE` without a store; {@link PermissionDeniedError} for a role that may
   * not toggle.
   */
  async toggle(input: ToggleInput): Promise<HealthStatus> {
    const store = requireStore(this.#store);
    const parsed = parseToggleInput(input);
    const done = this.#localToggles.begin(keyOf(parsed.provider, parsed.service));
    let value: Awaited<ReturnType<typeof callToggleProvider>>;
    try {
      value = await callToggleProvider(store, input);
    } finally {
      done();
    }
    this.applyToggle(value.provider, value.service, toggleStateOf(value), {
      origin: 'local',
      actor: value.actor,
      reason: value.reason,
    });

    // Without a breaker here, this instance knows nothing better than the database's status.
    return this.#registry.get(value.provider, value.service)
      ? this.#records.get(value.provider, value.service).status
      : value.status;
  }

  /**
   * Closes a provider's breaker and clears its failures, through
   * `m28.reset_circuit_breaker()`: the runbook's "force circuit breaker reset".
   * @throws {@link ValidationError} for bad input, before any query; {@link M28Error} with
   * code `M28_NO_STORE` without a store; {@link PermissionDeniedError} for a role that may
   * not reset.
   */
  async resetBreaker(input: ResetBreakerInput): Promise<void> {
    const key = keyOf(input.provider?.trim?.() ?? '', input.service?.trim?.() ?? '');
    const done = this.#localResets.begin(key);
    let value: Awaited<ReturnType<typeof callResetBreaker>>;
    try {
      value = await callResetBreaker(requireStore(this.#store), input);
    } finally {
      done();
    }
    this.applyReset(value.provider, value.service, { origin: 'local', actor: value.actor });
  }

  /**
   * Applies a toggle made here or elsewhere: blocks or unblocks calls, arms the maintenance
   * expiry, and re-derives the status. Emits `provider:toggle` when something changed.
   */
  applyToggle(
    provider: string,
    service: string,
    state: ToggleState,
    meta: { origin: 'local' | 'remote'; actor?: string; reason?: string },
  ): void {
    if (meta.origin === 'remote' && this.#localToggles.has(keyOf(provider, service))) {
      return;
    }

    const record = this.#records.get(provider, service);
    const changed = this.#records.setToggles(record, state);
    this.#registry.setAccess(provider, service, accessOf(record));
    if (changed) {
      // Only on a change: a poll that repeats the state must not restart the expiry.
      this.#expiry?.arm(provider, service, changed.maintenanceUntil);
      this.emit('provider:toggle', { provider, service, ...changed, ...meta });
    }
    this.evaluate();
  }

  /**
   * Applies a breaker reset made here or elsewhere. As the runbook's reset sets the status
   * back to healthy, the evidence against the provider goes too: the failed checks in a row,
   * the last check's outcome and the recent calls.
   */
  applyReset(
    provider: string,
    service: string,
    meta: { origin: 'local' | 'remote'; actor?: string },
  ): void {
    // The NOTIFY echo of this instance's own reset is not a second reset, even when it
    // arrives after the reset returned: a closed breaker with no failures has nothing to reset.
    const breaker = this.#registry.get(provider, service);
    const settled = breaker?.state === 'closed' && breaker.snapshot().consecutiveFailures === 0;
    if (meta.origin === 'remote' && (this.#localResets.has(keyOf(provider, service)) || settled)) {
      return;
    }

    breaker?.reset();
    this.#records.clearEvidence(provider, service, breaker?.snapshot().counters);
    this.emit('breaker:reset', { provider, service, ...meta });
    this.evaluate();
  }

  /**
   * Re-derives every provider's status from its breaker, checks, toggles and recent calls.
   * Emits `provider:status` for each status that changed.
   */
  evaluate(): void {
    const now = Date.now();
    for (const breaker of this.#registry.list()) {
      const change = this.#records.derive(breaker, now);
      if (change) {
        this.emit('provider:status', change);
      }
    }
  }

  /**
   * The spec's "Provider Health Response", for every provider or for one. Statuses are
   * derived again first, so that they count the live calls made since the last check.
   */
  health(filter: { provider?: string } = {}): ProviderHealthResponse {
    this.evaluate();
    const now = Date.now();
    const providers = this.#registry
      .list()
      .filter((breaker) => filter.provider === undefined || breaker.provider === filter.provider)
      .map((breaker) =>
        toProviderHealth(breaker, this.#records.get(breaker.provider, breaker.service), now),
      );

    return toHealthResponse(providers);
  }

  /** The current status, success rate, response time and last check of one provider. */
  statusOf(provider: string, service: string) {
    const record = this.#records.find(provider, service);

    return record
      ? {
          /** The derived status. */
          status: record.status,
          /** Success rate of recent calls and checks, or null when there were none. */
          successRate: record.successRate,
          /** Average response time of recent successful calls, in milliseconds, or null. */
          responseTimeMs: record.responseTimeMs,
          /** The last health check made; one the breaker refused does not count. */
          lastCheck: record.lastCheck,
          /** Failed health checks in a row. */
          failedChecksInARow: record.failedChecksInARow,
        }
      : undefined;
  }
}
