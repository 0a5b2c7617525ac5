import type { BreakerCounters, BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import { deriveStatus, type StatusThresholds } from '../domain/status.js';
import { REFUSED_CHECK_REASONS } from './CheckRunner.js';
import { createRecord, keyOf, type ProviderRecord } from './ProviderRecord.js';
import type { HealthCheckResult, ProviderStatusEvent } from './types.js';

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
 * The monitor's records, one per provider and service, made on first use, and the
 * bookkeeping that turns checks, toggles, resets and calls into each one's status.
 * @internal
 */
export class ProviderRecords {
  readonly #records = new Map<string, ProviderRecord>();
  readonly #intervalMs: number;
  readonly #windowMs: number;
  readonly #thresholds: StatusThresholds;

  /**
   * New records check every `intervalMs` and count calls over `successRateWindowMs`;
   * statuses follow `thresholds`.
   */
  constructor(tuning: {
    readonly intervalMs: number;
    readonly successRateWindowMs: number;
    readonly thresholds: StatusThresholds;
  }) {
    this.#intervalMs = tuning.intervalMs;
    this.#windowMs = tuning.successRateWindowMs;
    this.#thresholds = tuning.thresholds;
  }

  /** A provider's record, made enabled, healthy and never checked when there is none. */
  get(provider: string, service: string): ProviderRecord {
    const key = keyOf(provider, service);
    let record = this.#records.get(key);
    if (!record) {
      record = createRecord(provider, service, this.#intervalMs, this.#windowMs);
      this.#records.set(key, record);
    }

    return record;
  }

  /** A provider's record, or undefined when the monitor has not learned of it. */
  find(provider: string, service: string): ProviderRecord | undefined {
    return this.#records.get(keyOf(provider, service));
  }

  /** Every record, in the order they were made. */
  values(): IterableIterator<ProviderRecord> {
    return this.#records.values();
  }

  /** Counts a check's outcome toward the provider's status. */
  recordCheck(record: ProviderRecord, result: HealthCheckResult): void {
    // A check the breaker refused was never made: it is no evidence either way.
    if (result.passed || !REFUSED_CHECK_REASONS.has(result.reason ?? '')) {
      record.lastCheck = result;
      record.lastCheckPassed = result.passed;
      record.failedChecksInARow = result.passed ? 0 : record.failedChecksInARow + 1;
    }
  }

  /**
   * Sets a provider's toggles; a maintenance expiry is kept only in maintenance.
   * @returns the toggles now, or undefined when nothing changed.
   */
  setToggles(record: ProviderRecord, state: ToggleState): ToggleState | undefined {
    const until = state.maintenanceMode ? state.maintenanceUntil : null;
    const changed =
      record.enabled !== state.enabled ||
      record.maintenanceMode !== state.maintenanceMode ||
      record.maintenanceUntil?.getTime() !== until?.getTime();
    record.enabled = state.enabled;
    record.maintenanceMode = state.maintenanceMode;
    record.maintenanceUntil = until;

    return changed
      ? {
          enabled: record.enabled,
          maintenanceMode: record.maintenanceMode,
          maintenanceUntil: record.maintenanceUntil,
        }
      : undefined;
  }

  /**
   * Forgets the evidence against a provider after a breaker reset: the failed checks in a
   * row, the last check's outcome and the recent calls, up to the breaker's `counters`.
   * Makes the record when there is none.
   */
  clearEvidence(
    provider: string,
    service: string,
    counters: Readonly<BreakerCounters> | undefined,
  ): void {
    const record = this.get(provider, service);
    record.failedChecksInARow = 0;
    record.lastCheckPassed = null;
    record.window.clear(counters);
  }

  /**
   * Re-derives the status of a breaker's provider from the breaker, the checks, the toggles
   * and the recent calls, with {@link deriveStatus}.
   * @returns the change, or undefined when the status stayed.
   */
  derive(breaker: BreakerSnapshot, now: number): ProviderStatusEvent | undefined {
    const record = this.get(breaker.provider, breaker.service);
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
    if (status === record.status) {
      return undefined;
    }

    const from = record.status;
    record.status = status;

    return { provider: record.provider, service: record.service, from, to: status };
  }
}
