import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { BreakerCounters, ProviderAccess } from '../breakers/ProviderBreaker.js';
import {
  DEFAULT_STATUS_THRESHOLDS,
  deriveStatus,
  type StatusThresholds,
} from '../domain/status.js';
import { PROVIDER_DEFAULTS } from '../domain/defaults.js';
import type { HealthStatus } from '../domain/vocabularies.js';
import { M28Error } from '../errors/M28Error.js';
import type { M28Store } from '../store/M28Store.js';
import { CheckRunner } from './CheckRunner.js';
import {
  callResetBreaker,
  callToggleProvider,
  type ResetBreakerInput,
  type ToggleInput,
} from './toggles.js';
import type {
  BreakerResetEvent,
  HealthCheck,
  HealthCheckResult,
  ProviderHealth,
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
   * Milliseconds between a provider's health checks.
   * @defaultValue 300000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a health check may take before it fails with `timeout`.
   * @defaultValue 10000
   */
  readonly checkTimeoutMs?: number;
  /**
   * Health checks that may run at once.
   * @defaultValue 4
   */
  readonly maxConcurrentChecks?: number;
  /** Thresholds of the status rules; see {@link deriveStatus}. */
  readonly thresholds?: Partial<StatusThresholds>;
}

/** What the monitor knows of one provider and service. */
interface ProviderRecord {
  readonly provider: string;
  readonly service: string;
  check: HealthCheck | undefined;
  intervalMs: number;
  timer: ReturnType<typeof setInterval> | undefined;
  lastCheck: HealthCheckResult | undefined;
  failedChecksInARow: number;
  status: HealthStatus;
  enabled: boolean;
  maintenanceMode: boolean;
  maintenanceUntil: Date | null;
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  baseline: BreakerCounters | undefined;
  successRate: number | null;
  responseTimeMs: number | null;
  registeredAt: number;
}

const keyOf = (provider: string, service: string) => `${provider}/${service}`;

/**
 * Checks providers on an interval through their breakers, derives each one's status, and
 * applies operators' toggles. Statuses follow {@link deriveStatus}; thresholds are options.
 */
export class ProviderHealthMonitor extends EventEmitter<MonitorEvents> {
  readonly #registry: CircuitBreakerRegistry;
  readonly #store: M28Store | undefined;
  readonly #intervalMs: number;
  readonly #thresholds: StatusThresholds;
  readonly #records = new Map<string, ProviderRecord>();
  readonly #runner: CheckRunner;
  // Toggles this instance is making: their NOTIFY echo must not be taken as remote.
  readonly #localToggles = new Set<string>();
  #evaluationQueued = false;
  #started = false;

  constructor(options: ProviderHealthMonitorOptions) {
    super();
    this.#registry = options.registry;
    this.#store = options.store;
    this.#intervalMs = options.intervalMs ?? PROVIDER_DEFAULTS.healthCheckIntervalSeconds * 1000;
    this.#thresholds = { ...DEFAULT_STATUS_THRESHOLDS, ...options.thresholds };
    this.#runner = new CheckRunner(
      this.#registry,
      options.checkTimeoutMs ?? 10_000,
      options.maxConcurrentChecks ?? 4,
    );
    this.#registry.on('breaker:open', this.#onBreakerChange);
    this.#registry.on('breaker:half_open', this.#onBreakerChange);
    this.#registry.on('breaker:close', this.#onBreakerChange);
  }

  /**
   * Registers a health check for a provider and service, and its breaker. Checks run every
   * interval once the monitor has started.
   */
  register(
    provider: string,
    service: string,
    check?: HealthCheck,
    options: { intervalMs?: number } = {},
  ): void {
    this.#registry.register(provider, service);
    const record = this.#record(provider, service);
    record.check = check;
    record.intervalMs = options.intervalMs ?? this.#intervalMs;
    if (this.#started) {
      this.#schedule(record);
    }
  }

  /** Starts the check timers. Idempotent. */
  start(): void {
    if (this.#started) {
      return;
    }

    this.#started = true;
    for (const record of this.#records.values()) {
      this.#schedule(record);
    }
  }

  /** Stops every timer. Idempotent; checks in flight finish on their own. */
  close(): void {
    this.#started = false;
    for (const record of this.#records.values()) {
      clearInterval(record.timer);
      clearTimeout(record.expiryTimer);
      record.timer = undefined;
      record.expiryTimer = undefined;
    }
    this.#registry.off('breaker:open', this.#onBreakerChange);
    this.#registry.off('breaker:half_open', this.#onBreakerChange);
    this.#registry.off('breaker:close', this.#onBreakerChange);
  }

  /** Runs one provider's check now, through its breaker, as the spec's check function does. */
  async check(provider: string, service: string): Promise<HealthCheckResult> {
    const record = this.#record(provider, service);
    const result = await this.#runner.run(record, record.check);
    if (result.reason !== 'circuit_breaker_open') {
      record.lastCheck = result;
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
   * over NOTIFY or polling.
   * @throws {@link ValidationError} for bad input; {@link M28Error} without a store.
   */
  async toggle(input: ToggleInput): Promise<HealthStatus> {
    const store = this.#requireStore();
    const key = keyOf(input.provider, input.service);
    this.#localToggles.add(key);
    let value: Awaited<ReturnType<typeof callToggleProvider>>;
    try {
      value = await callToggleProvider(store, input);
    } finally {
      this.#localToggles.delete(key);
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

    return this.#record(value.provider, value.service).status;
  }

  /**
   * Closes a provider's breaker and clears its failures, through
   * `m28.reset_circuit_breaker()`: the runbook's "force circuit breaker reset".
   */
  async resetBreaker(input: ResetBreakerInput): Promise<void> {
    const value = await callResetBreaker(this.#requireStore(), input);
    this.applyReset(value.provider, value.service, { origin: 'local', actor: value.actor });
  }

  /**
   * Applies a toggle made here or elsewhere: blocks or unblocks calls, arms the maintenance
   * expiry, and re-derives the status. Emits `provider:toggle` when something changed.
   */
  applyToggle(
    provider: string,
    service: string,
    state: { enabled: boolean; maintenanceMode: boolean; maintenanceUntil: Date | null },
    meta: { origin: 'local' | 'remote'; actor?: string; reason?: string },
  ): void {
    if (meta.origin === 'remote' && this.#localToggles.has(keyOf(provider, service))) {
      return;
    }

    const record = this.#record(provider, service);
    const changed =
      record.enabled !== state.enabled ||
      record.maintenanceMode !== state.maintenanceMode ||
      record.maintenanceUntil?.getTime() !== state.maintenanceUntil?.getTime();
    record.enabled = state.enabled;
    record.maintenanceMode = state.maintenanceMode;
    record.maintenanceUntil = state.maintenanceMode ? state.maintenanceUntil : null;
    this.#registry.setAccess(provider, service, accessOf(record));
    this.#armExpiry(record);
    if (changed) {
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

  /** Applies a breaker reset made here or elsewhere. */
  applyReset(
    provider: string,
    service: string,
    meta: { origin: 'local' | 'remote'; actor?: string },
  ): void {
    this.#registry.get(provider, service)?.reset();
    this.emit('breaker:reset', { provider, service, ...meta });
    this.evaluate();
  }

  /** Re-derives every provider's status from its breaker, checks and toggles. */
  evaluate(): void {
    for (const breaker of this.#registry.list()) {
      const record = this.#record(breaker.provider, breaker.service);
      const counters = breaker.counters;
      const base = record.baseline;
      const calls =
        counters.successes + counters.failures - (base ? base.successes + base.failures : 0);
      if (calls > 0) {
        const successes = counters.successes - (base?.successes ?? 0);
        record.successRate = successes / calls;
        const latency = counters.latencyTotalMs - (base?.latencyTotalMs ?? 0);
        record.responseTimeMs =
          successes > 0 ? Math.round(latency / successes) : record.responseTimeMs;
        record.baseline = counters;
      }

      const status = deriveStatus(
        {
          enabled: record.enabled,
          maintenanceMode: record.maintenanceMode,
          breakerState: breaker.circuit.state,
          successRate: record.successRate,
          responseTimeMs: record.responseTimeMs,
          failedChecksInARow: record.failedChecksInARow,
          lastCheckPassed: record.lastCheck ? record.lastCheck.passed : null,
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

  /** The spec's "Provider Health Response", for every provider or for one. */
  health(filter: { provider?: string } = {}): ProviderHealthResponse {
    const now = Date.now();
    const providers: ProviderHealth[] = [];
    for (const breaker of this.#registry.list()) {
      if (filter.provider !== undefined && breaker.provider !== filter.provider) {
        continue;
      }
      const record = this.#record(breaker.provider, breaker.service);
      const circuit = breaker.circuit;
      const lastAt = record.lastCheck?.at.getTime() ?? record.registeredAt;
      providers.push({
        provider: record.provider,
        service_type: record.service,
        status: record.status,
        circuit_breaker_state: circuit.state,
        enabled: record.enabled,
        maintenance_mode: record.maintenanceMode,
        response_time_ms: record.responseTimeMs,
        success_rate: record.successRate === null ? null : round4(record.successRate),
        failure_count: breaker.counters.failures,
        last_health_check: record.lastCheck?.at.toISOString() ?? null,
        available: record.enabled && !record.maintenanceMode && circuit.state !== 'open',
        stale: now - lastAt > 2 * record.intervalMs,
        maintenance_until: record.maintenanceUntil?.toISOString() ?? null,
        circuit_breaker_next_attempt:
          circuit.state === 'open' ? circuit.nextAttemptAt.toISOString() : null,
      });
    }

    const count = (status: HealthStatus) => providers.filter((p) => p.status === status).length;

    return {
      providers,
      summary: {
        total_providers: providers.length,
        healthy: count('healthy'),
        degraded: count('degraded'),
        unhealthy: count('unhealthy'),
        maintenance: count('maintenance'),
        disabled: count('disabled'),
      },
    };
  }

  /** The current status, success rate, response time and last check of one provider. */
  statusOf(provider: string, service: string) {
    const record = this.#records.get(keyOf(provider, service));

    return record
      ? {
          status: record.status,
          successRate: record.successRate,
          responseTimeMs: record.responseTimeMs,
          lastCheck: record.lastCheck,
          failedChecksInARow: record.failedChecksInARow,
        }
      : undefined;
  }

  #record(provider: string, service: string): ProviderRecord {
    const key = keyOf(provider, service);
    let record = this.#records.get(key);
    if (!record) {
      record = {
        provider,
        service,
        check: undefined,
        intervalMs: this.#intervalMs,
        timer: undefined,
        lastCheck: undefined,
        failedChecksInARow: 0,
        status: 'healthy',
        enabled: true,
        maintenanceMode: false,
        maintenanceUntil: null,
        expiryTimer: undefined,
        baseline: undefined,
        successRate: null,
        responseTimeMs: null,
        registeredAt: Date.now(),
      };
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
      this.check(record.provider, record.service).catch((error: unknown) => {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      });
    }, record.intervalMs);
    record.timer.unref?.();
  }

  #armExpiry(record: ProviderRecord): void {
    clearTimeout(record.expiryTimer);
    record.expiryTimer = undefined;
    const until = record.maintenanceUntil;
    if (!until || !this.#store) {
      return;
    }

    record.expiryTimer = setTimeout(
      () => {
        record.expiryTimer = undefined;
        this.#endExpiredMaintenance().catch((error: unknown) => {
          this.emit('error', error instanceof Error ? error : new Error(String(error)));
        });
      },
      Math.max(0, until.getTime() - Date.now()),
    );
    record.expiryTimer.unref?.();
  }

  async #endExpiredMaintenance(): Promise<void> {
    const store = this.#requireStore();
    const ended = await store.withRole('m28_system', (tx) =>
      store.query<{ provider_name: string; service_type: string }>(
        sql`select provider_name, service_type from m28.end_expired_maintenance('system')`,
        tx,
      ),
    );
    for (const row of ended) {
      this.applyToggle(
        row.provider_name,
        row.service_type,
        { enabled: true, maintenanceMode: false, maintenanceUntil: null },
        { origin: 'local', actor: 'system', reason: 'maintenance window ended' },
      );
    }
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

function accessOf(record: ProviderRecord): ProviderAccess {
  if (record.maintenanceMode) {
    return { kind: 'maintenance', until: record.maintenanceUntil ?? undefined };
  }

  return record.enabled ? { kind: 'enabled' } : { kind: 'disabled' };
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
