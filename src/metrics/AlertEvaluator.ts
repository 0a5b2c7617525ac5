import { EventEmitter } from 'eventemitter3';

import type { CircuitBreakerRegistry, RegistryEvents } from '../breakers/CircuitBreakerRegistry.js';
import { REFUSED_CHECK_REASONS } from '../health/CheckRunner.js';
import type { MonitorEvents } from '../health/ProviderHealthMonitor.js';
import type { BreakerResetEvent, HealthCheckResult } from '../health/types.js';
import type { DueSecret, SchedulerEvents } from '../rotation/RotationScheduler.js';
import type { SecretsEvents } from '../secrets/types.js';
import { asError } from '../store/deadline.js';
import {
  formatDuration,
  levelOf,
  resolveAlertRules,
  type AlertRulesOptions,
  type ResolvedAlertRules,
} from './alertRules.js';
import type { Alert, AlertEvents } from './alerts.js';
import { AlertSignals, type Measurement } from './AlertSignals.js';
import { timerOption, type Listenable } from './options.js';

/** Options of {@link AlertEvaluator}. Every source is optional: a rule without one is quiet. */
export interface AlertEvaluatorOptions {
  /** Breaker trips, and the counters response times are averaged from. */
  readonly registry?: Listenable<RegistryEvents> & Pick<CircuitBreakerRegistry, 'list'>;
  /** Health checks, and operators' breaker resets. */
  readonly monitor?: Listenable<MonitorEvents>;
  /** Secrets past due, from each scan. */
  readonly scheduler?: Listenable<SchedulerEvents>;
  /** Completed rotations, which end an overdue alert at once. */
  readonly secrets?: Listenable<SecretsEvents>;
  /** Per-rule overrides of the spec's thresholds. */
  readonly rules?: AlertRulesOptions;
  /**
   * Milliseconds between evaluations on the timer, which age failures and trips out of their
   * windows and average response times. Events are evaluated as they come as well.
   * @defaultValue 10000
   */
  readonly evaluationIntervalMs?: number;
}

function summaryOf(m: Measurement, rules: ResolvedAlertRules): string {
  const window = formatDuration(rules[m.rule].windowMs);
  const checks = m.value === 1 ? 'check' : 'checks';
  const times = m.value === 1 ? 'once' : `${m.value} times`;
  switch (m.rule) {
    case 'health_check_failures':
      return `${m.provider}/${m.service}: ${m.value} failed health ${checks} in ${window}`;
    case 'circuit_breaker_trips':
      return `${m.provider}/${m.service}: circuit breaker tripped ${times} in ${window}`;
    case 'response_time':
      return `${m.provider}/${m.service}: average response time ${m.value} ms over ${window}`;
    case 'overdue_rotations':
      return `${m.scope}/${m.keyName}: rotation ${formatDuration(m.value)} late`;
  }
}

const alertKey = (m: Measurement | Alert) =>
  m.rule === 'overdue_rotations'
    ? `${m.rule}|${m.scope}/${m.keyName}`
    : `${m.rule}|${m.provider}/${m.service}`;

/**
 * Evaluates the spec's Alert Thresholds as rules with warning and critical levels. Evidence
 * comes from the parts' events and is held in memory; a provider call never waits on it. Each
 * transition is emitted once: `alert:raised` when an alert is raised or changes level,
 * `alert:resolved` when its condition clears.
 *
 * @example
 * ```ts
 * const rules = { responseTime: { warning: 800 } };
 * const alerts = new AlertEvaluator({ registry, monitor, rules });
 * alerts.on('alert:raised', (alert) => pager.notify(alert.summary, alert.level));
 * alerts.start();
 * ```
 */
export class AlertEvaluator extends EventEmitter<AlertEvents> {
  readonly #options: AlertEvaluatorOptions;
  readonly #rules: ResolvedAlertRules;
  readonly #intervalMs: number;
  readonly #signals: AlertSignals;
  readonly #active = new Map<string, Alert>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #queued = false;

  /** @throws {@link ValidationError} naming a rule's option, or the interval, out of range. */
  constructor(options: AlertEvaluatorOptions = {}) {
    super();
    this.#options = options;
    this.#intervalMs = timerOption(options.evaluationIntervalMs, 'evaluationIntervalMs', 10_000);
    this.#rules = resolveAlertRules(options.rules);
    this.#signals = new AlertSignals(this.#rules);
  }

  /** The thresholds in force, overrides applied. */
  get rules(): ResolvedAlertRules {
    return this.#rules;
  }

  /** Listens to the sources and evaluates every interval. Idempotent. */
  start(): void {
    if (this.#timer) {
      return;
    }

    const { registry, monitor, scheduler, secrets } = this.#options;
    this.#signals.prime(registry?.list() ?? []);
    registry?.on('breaker:open', this.#onOpen);
    monitor?.on('health:checked', this.#onChecked);
    monitor?.on('breaker:reset', this.#onReset);
    scheduler?.on('rotation:due', this.#onDue);
    scheduler?.on('scheduler:scanned', this.#onScanned);
    secrets?.on('rotation:completed', this.#onRotated);
    this.#timer = setInterval(() => this.#evaluateInBackground(), this.#intervalMs);
    this.#timer.unref?.();
  }

  /** Stops listening and evaluating. Active alerts stay as they are. Idempotent. */
  close(): void {
    const { registry, monitor, scheduler, secrets } = this.#options;
    clearInterval(this.#timer);
    this.#timer = undefined;
    registry?.off('breaker:open', this.#onOpen);
    monitor?.off('health:checked', this.#onChecked);
    monitor?.off('breaker:reset', this.#onReset);
    scheduler?.off('rotation:due', this.#onDue);
    scheduler?.off('scheduler:scanned', this.#onScanned);
    secrets?.off('rotation:completed', this.#onRotated);
  }

  /** The alerts active now, oldest first. */
  alerts(): Alert[] {
    return [...this.#active.values()].sort((a, b) => a.raisedAt.getTime() - b.raisedAt.getTime());
  }

  /**
   * Evaluates every rule now, and emits what changed since the last evaluation. Evaluating
   * again without new evidence emits nothing.
   */
  evaluate(): void {
    const now = Date.now();
    const measured = new Map<string, Measurement>();
    for (const m of this.#signals.measure(now, this.#options.registry?.list() ?? [])) {
      if (this.#rules[m.rule].enabled) {
        measured.set(alertKey(m), m);
      }
    }
    for (const [key, alert] of this.#active) {
      const m = measured.get(key);
      if (!m || !levelOf(m.value, this.#rules[m.rule])) {
        this.#active.delete(key);
        this.emit('alert:resolved', { ...alert, resolvedAt: new Date(now) });
      }
    }
    for (const [key, m] of measured) {
      this.#apply(key, m, now);
    }
  }

  #apply(key: string, m: Measurement, now: number): void {
    const thresholds = this.#rules[m.rule];
    const level = levelOf(m.value, thresholds);
    if (!level) {
      return;
    }

    const before = this.#active.get(key);
    const changed = before?.level !== level;
    const alert = {
      ...m,
      level,
      threshold: thresholds[level],
      raisedAt: before?.raisedAt ?? new Date(now),
      changedAt: changed ? new Date(now) : (before?.changedAt ?? new Date(now)),
      summary: summaryOf(m, this.#rules),
    } as Alert;
    this.#active.set(key, alert);
    if (changed) {
      this.emit('alert:raised', { ...alert, previousLevel: before?.level ?? null });
    }
  }

  #evaluateInBackground(): void {
    try {
      this.evaluate();
    } catch (error) {
      // A host's listener threw: the evaluator itself is pure and keeps going.
      this.emit('error', asError(error));
    }
  }

  // Breaker trips arrive on the caller's stack: evaluation waits for the next microtask, and a
  // burst of events is evaluated once.
  #queueEvaluation(): void {
    if (this.#queued) {
      return;
    }

    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      if (this.#timer) {
        this.#evaluateInBackground();
      }
    });
  }

  readonly #onOpen = (event: { provider: string; service: string }): void => {
    this.#signals.tripped(event.provider, event.service, Date.now());
    this.#queueEvaluation();
  };

  readonly #onChecked = (result: HealthCheckResult): void => {
    if (result.passed || REFUSED_CHECK_REASONS.has(result.reason ?? '')) {
      return;
    }

    this.#signals.checkFailed(result.provider, result.service, Date.now());
    this.#queueEvaluation();
  };

  readonly #onReset = (event: BreakerResetEvent): void => {
    this.#signals.reset(event.provider, event.service);
    this.#queueEvaluation();
  };

  readonly #onDue = (event: DueSecret & { lateMs: number }): void => {
    this.#signals.due(event, Date.now());
  };

  readonly #onScanned = (): void => {
    this.#signals.scanned();
    this.#queueEvaluation();
  };

  readonly #onRotated = (event: { scope: string; keyName: string }): void => {
    this.#signals.rotated(event.scope, event.keyName);
    this.#queueEvaluation();
  };
}
