import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import { deriveStatus, type StatusThresholds } from '../domain/status.js';
import type { HealthStatus } from '../domain/vocabularies.js';
import { M28Error } from '../errors/M28Error.js';
import type { M28Store } from '../store/M28Store.js';
import { CheckRunner, REFUSED_CHECK_REASONS } from './CheckRunner.js';
import { toHealthResponse, toProviderHealth } from './healthResponse.js';
import { MaintenanceExpiry } from './MaintenanceExpiry.js';
import { resolveIntervalMs, resolveMonitorOptions } from './options.js';
import { accessOf, createRecord, keyOf, type ProviderRecord } from './ProviderRecord.js';
import {
  callResetBreaker,
  callToggleProvider,
  parseToggleInput,
  type ResetBreakerInput,
  type ToggleInput,
} from './toggles.js';
import type {
  BreakerResetEvent,
  HealthCheck,
  HealthCheckResult,
  ProviderHealthResponse,
  ProviderStatusEvent,
  ProviderToggleEvent,
} from './types.js';

/** Events of {@link ProviderHealthMonitor}. */
export interface MonitorEvents {
  /** A health check ran, or was refused by the breaker. */
  'health:checked': (result: HealthCheckResult) => void;
  /** A provider's derived status changed. */
  'provider:status': (event: ProviderStatusEvent) => void;
  /** A provider was enabled, disabled, or put in or out of maintenance. */
  'provider:toggle': (event: ProviderToggleEvent) => void;
  /** An operator reset a breaker. */
  'breaker:reset': (event: BreakerResetEvent) => void;
  /** A background task failed; the monitor keeps running. */
  error: (error: Error) => void;
}

/** Options of {@link ProviderHealthMonitor}. */
export interface ProviderHealthMonitorOptions {
  /** The breakers that checks and live calls go through. */
  readonly registry: CircuitBreakerRegistry;
  /** Where toggles and resets are recorded. Toggles need one; checks do not. */
  readonly store?: M28Store;
  /**
   * Milliseconds between a provider's health checks, from 1 to 2 147 483 647.
   * @defaultValue 300000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a health check may take before it fails with `timeout`.
   * @defaultValue 10000
   */
  readonly checkTimeoutMs?: number;
  /**
   * Health checks that may run at once, from 1 to 1000.
   * @defaultValue 4
   */
  readonly maxConcurrentChecks?: number;
  /**
   * Milliseconds of calls and checks the success rate and average response time are over.
   * The window moves in tenths of its length. The spec's alerts count failures in 5 minutes.
   * @defaultValue 300000
   */
  readonly successRateWindowMs?: number;
  /** Thresholds of the status rules; see {@link deriveStatus}. */
  readonly thresholds?: Partial<StatusThresholds>;
  /**
   * With a store, each scheduled check first claims a lease on the provider's health row,
   * so that one instance checks a provider per interval however many share the database.
   * @defaultValue true
   */
  readonly leaseChecks?: boolean;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** A provider's toggles, as {@link ProviderHealthMonitor.applyToggle} applies them. */
export interface ToggleState {
  /** Whether calls may reach the provider. */
  enabled: boolean;
  /** Whether the provider is in maintenance: calls are blocked. */
  maintenanceMode: boolean;
  /** When maintenance ends by itself, or null; ignored outside maintenance. */
  maintenanceUntil: Date | null;
}

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
  readonly #leaseChecks: boolean;
  // Names this instance as a lease owner.
  readonly #instanceId = randomUUID();
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #thresholds: StatusThresholds;
  readonly #records = new Map<string, ProviderRecord>();
  readonly #runner: CheckRunner;
  readonly #expiry: MaintenanceExpiry | undefined;
  // Toggles this instance is making, by key: their NOTIFY echo must not be taken as remote.
  readonly #localToggles = new Map<string, number>();
  readonly #localResets = new Map<string, number>();
  #evaluationQueued = false;
  #started = false;
  #listening = false;

  /** @throws {@link ValidationError} when an option is out of range. */
  constructor(options: ProviderHealthMonitorOptions) {
    super();
    const tuning = resolveMonitorOptions(options);
    this.#registry = options.registry;
    this.#store = options.store;
    this.#leaseChecks = options.leaseChecks ?? true;
    this.#intervalMs = tuning.intervalMs;
    this.#windowMs = tuning.successRateWindowMs;
    this.#thresholds = tuning.thresholds;
    this.#runner = new CheckRunner(
      this.#registry,
      tuning.checkTimeoutMs,
      tuning.maxConcurrentChecks,
    );
    this.#expiry = options.store
      ? new MaintenanceExpiry(options.store, {
          untilOf: (provider, service) =>
            this.#records.get(keyOf(provider, service))?.maintenanceUntil ?? null,
          apply: (provider, service, state, meta) =>
            this.applyToggle(provider, service, state, meta),
          error: (error) => this.emit('error', error),
        })
      : undefined;
    this.#listen(true);
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
    const record = this.#record(provider, service);
    record.check = check;
    record.intervalMs = intervalMs;
    if (this.#started) {
      this.#schedule(record);
    }
  }

  /** Starts the check timers, also after {@link ProviderHealthMonitor.close}. Idempotent. */
  start(): void {
    if (this.#started) {
      return;
    }

    this.#started = true;
    this.#listen(true);
    this.#expiry?.resume();
    for (const record of this.#records.values()) {
      this.#schedule(record);
      this.#expiry?.arm(record.provider, record.service, record.maintenanceUntil);
    }
  }

  /** Stops every timer. Idempotent; checks in flight finish on their own. */
  close(): void {
    this.#started = false;
    for (const record of this.#records.values()) {
      clearInterval(record.timer);
      record.timer = undefined;
    }
    this.#expiry?.stop();
    this.#listen(false);
  }

  /** Runs one provider's check now, through its breaker, as the spec's check function does. */
  async check(provider: string, service: string): Promise<HealthCheckResult> {
    const record = this.#record(provider, service);
    const result = await this.#runner.run(record, record.check);
    // A check the breaker refused was never made: it is no evidence either way.
    if (result.passed || !REFUSED_CHECK_REASONS.has(result.reason ?? '')) {
      record.lastCheck = result;
      record.lastCheckPassed = result.passed;
      record.failedChecksInARow = result.passed ? 0 : record.failedChecksInARow + 1;
    }
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
    const store = this.#requireStore();
    const parsed = parseToggleInput(input);
    const key = keyOf(parsed.provider, parsed.service);
    this.#localToggles.set(key, (this.#localToggles.get(key) ?? 0) + 1);
    let value: Awaited<ReturnType<typeof callToggleProvider>>;
    try {
      value = await callToggleProvider(store, input);
    } finally {
      const left = (this.#localToggles.get(key) ?? 1) - 1;
      if (left > 0) {
        this.#localToggles.set(key, left);
      } else {
        this.#localToggles.delete(key);
      }
    }
    this.applyToggle(
      value.provider,
      value.service,
      {
        enabled: value.enabled,
        maintenanceMode: value.maintenanceMode ?? false,
        maintenanceUntil: value.until ?? null,
      },
      { origin: 'local', actor: value.actor, reason: value.reason },
    );

    // Without a breaker here, this instance knows nothing better than the database's status.
    return this.#registry.get(value.provider, value.service)
      ? this.#record(value.provider, value.service).status
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
    this.#localResets.set(key, (this.#localResets.get(key) ?? 0) + 1);
    let value: Awaited<ReturnType<typeof callResetBreaker>>;
    try {
      value = await callResetBreaker(this.#requireStore(), input);
    } finally {
      const left = (this.#localResets.get(key) ?? 1) - 1;
      if (left > 0) {
        this.#localResets.set(key, left);
      } else {
        this.#localResets.delete(key);
      }
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

    const record = this.#record(provider, service);
    const until = state.maintenanceMode ? state.maintenanceUntil : null;
    const changed =
      record.enabled !== state.enabled ||
      record.maintenanceMode !== state.maintenanceMode ||
      record.maintenanceUntil?.getTime() !== until?.getTime();
    record.enabled = state.enabled;
    record.maintenanceMode = state.maintenanceMode;
    record.maintenanceUntil = until;
    this.#registry.setAccess(provider, service, accessOf(record));
    if (changed) {
      // Only on a change: a poll that repeats the state must not restart the expiry.
      this.#expiry?.arm(provider, service, until);
      this.emit('provider:toggle', {
        provider,
        service,
        enabled: record.enabled,
        maintenanceMode: record.maintenanceMode,
        maintenanceUntil: record.maintenanceUntil,
        ...meta,
      });
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
    const record = this.#record(provider, service);
    record.failedChecksInARow = 0;
    record.lastCheckPassed = null;
    record.window.clear(breaker?.snapshot().counters);
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
      const record = this.#record(breaker.provider, breaker.service);
      const recent = record.window.observe(breaker.counters, now);
      record.successRate = recent.successRate;
      record.responseTimeMs = recent.responseTimeMs;

      const status = deriveStatus(
        {
          enabled: record.enabled,
          maintenanceMode: record.maintenanceMode,
          breakerState: breaker.circuit.state,
          successRate: recent.successRate,
          calls: recent.calls,
          responseTimeMs: recent.responseTimeMs,
          failedChecksInARow: record.failedChecksInARow,
          lastCheckPassed: record.lastCheckPassed,
        },
        this.#thresholds,
      );
      if (status !== record.status) {
        const from = record.status;
        record.status = status;
        this.emit('provider:status', {
          provider: record.provider,
          service: record.service,
          from,
          to: status,
        });
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
        toProviderHealth(breaker, this.#record(breaker.provider, breaker.service), now),
      );

    return toHealthResponse(providers);
  }

  /** The current status, success rate, response time and last check of one provider. */
  statusOf(provider: string, service: string) {
    const record = this.#records.get(keyOf(provider, service));

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

  #record(provider: string, service: string): ProviderRecord {
    const key = keyOf(provider, service);
    let record = this.#records.get(key);
    if (!record) {
      record = createRecord(provider, service, this.#intervalMs, this.#windowMs);
      this.#records.set(key, record);
    }

    return record;
  }

  #schedule(record: ProviderRecord): void {
    clearInterval(record.timer);
    record.timer = undefined;
    if (!record.check) {
      return;
    }

    record.timer = setInterval(() => {
      // A check slower than the interval must not pile up behind the concurrency bound.
      if (record.checking) {
        return;
      }

      record.checking = true;
      this.#claim(record)
        .then((claimed) => (claimed ? this.check(record.provider, record.service) : undefined))
        .catch((error: unknown) => {
          this.emit('error', asError(error));
        })
        .finally(() => {
          record.checking = false;
        });
    }, record.intervalMs);
    record.timer.unref?.();
  }

  // Leases last nine tenths of an interval: the next tick, here or elsewhere, finds it free.
  async #claim(record: ProviderRecord): Promise<boolean> {
    const store = this.#store;
    if (!store || !this.#leaseChecks) {
      return true;
    }

    const leaseMs = Math.max(1, Math.floor(record.intervalMs * 0.9));
    const [row] = await store.withRole('m28_system', (tx) =>
      store.query<{ claimed: boolean }>(
        sql`select m28.claim_health_check(${record.provider}, ${record.service},
          ${this.#instanceId}, ${leaseMs}) as claimed`,
        tx,
      ),
    );

    return row?.claimed === true;
  }

  #listen(on: boolean): void {
    if (this.#listening === on) {
      return;
    }

    this.#listening = on;
    const method = on ? 'on' : 'off';
    this.#registry[method]('breaker:open', this.#onBreakerChange);
    this.#registry[method]('breaker:half_open', this.#onBreakerChange);
    this.#registry[method]('breaker:close', this.#onBreakerChange);
  }

  #requireStore(): M28Store {
    if (!this.#store) {
      throw new M28Error(
        'M28_NO_STORE',
        'toggles and resets are audited in the database: give the monitor a store',
      );
    }

    return this.#store;
  }

  // Deferred to a microtask, so that a breaker's own event reaches every listener before the
  // status change it causes, and a burst of transitions is evaluated once.
  readonly #onBreakerChange = (): void => {
    if (this.#evaluationQueued) {
      return;
    }

    this.#evaluationQueued = true;
    queueMicrotask(() => {
      this.#evaluationQueued = false;
      this.evaluate();
    });
  };
}
