import { randomUUID } from 'node:crypto';

import { EventEmitter } from 'eventemitter3';

import { CircuitBreakerRegistry, type RegistryEvents } from './breakers/CircuitBreakerRegistry.js';
import type { BreakerOptions } from './breakers/options.js';
import type { StatusThresholds } from './domain/status.js';
import type { HealthStatus } from './domain/vocabularies.js';
import { M28Error } from './errors/M28Error.js';
import { ValidationError } from './errors/ValidationError.js';
import { ProviderHealthMonitor, type MonitorEvents } from './health/ProviderHealthMonitor.js';
import type { ResetBreakerInput, ToggleInput } from './health/toggles.js';
import type { HealthCheck, ProviderHealthResponse } from './health/types.js';
import type { M28Role } from './domain/vocabularies.js';
import { AlertEvaluator } from './metrics/AlertEvaluator.js';
import {
  DEFAULT_ALERT_RULES,
  checkFailureWindowMs,
  type AlertRulesOptions,
} from './metrics/alertRules.js';
import type { Alert, AlertEvents } from './metrics/alerts.js';
import { MetricsCollector } from './metrics/MetricsCollector.js';
import {
  OperationalMetricsWriter,
  type OperationalMetricsEvents,
} from './metrics/OperationalMetricsWriter.js';
import { timerOption } from './metrics/options.js';
import {
  registerPromClientMetrics,
  type PromClientOptions,
  type PromClientRegistration,
} from './metrics/promClient.js';
import {
  RotationScheduler,
  type RotationSchedulerOptions,
  type SchedulerEvents,
} from './rotation/RotationScheduler.js';
import type { RotatorHooks } from './rotation/runRotator.js';
import { SecretsManager } from './secrets/SecretsManager.js';
import type { SecretsEvents } from './secrets/types.js';
import type { M28Store } from './store/M28Store.js';
import { SharedTrip } from './store/SharedTrip.js';
import { StoreSink, type StoreSinkEvents, type StoreSinkOptions } from './store/StoreSink.js';

/** One provider and service, as `createOps()` takes it: breaker options, plus its check. */
export interface ProviderOptions extends BreakerOptions {
  /** The health check; without one, the provider's status comes from live calls only. */
  readonly check?: HealthCheck;
  /** Milliseconds between this provider's checks; the monitor's interval by default. */
  readonly intervalMs?: number;
}

/** Options of {@link createOps}. */
export interface OpsOptions {
  /** Where state, toggles and the audit trail live. Without one, state is in memory only. */
  readonly store?: M28Store;
  /** Providers keyed `'provider/service'`, such as `'stripe/payment'`. */
  readonly providers?: Readonly<Record<string, ProviderOptions>>;
  /** Breaker options every provider starts from. */
  readonly defaults?: BreakerOptions;
  /**
   * Milliseconds between health checks.
   * @defaultValue 300000
   */
  readonly intervalMs?: number;
  /**
   * Milliseconds a health check may take.
   * @defaultValue 10000
   */
  readonly checkTimeoutMs?: number;
  /**
   * Health checks that may run at once.
   * @defaultValue 4
   */
  readonly maxConcurrentChecks?: number;
  /** Thresholds of the status rules. */
  readonly thresholds?: Partial<StatusThresholds>;
  /**
   * Milliseconds between snapshot flushes to the store.
   * @defaultValue 5000
   */
  readonly flushIntervalMs?: number;
  /**
   * Most operational events buffered while the database is slow or down.
   * @defaultValue 10000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Milliseconds between polls of the toggles: 5000 where the store can LISTEN, 1000 where
   * it cannot.
   */
  readonly pollIntervalMs?: number;
  /**
   * Milliseconds a background flush or toggle poll may take before it counts as failed and
   * is tried again. See {@link StoreSinkOptions.storeTimeoutMs}.
   * @defaultValue 30000
   */
  readonly storeTimeoutMs?: number;
  /**
   * The role the secrets lifecycle runs as unless a call names one.
   * @defaultValue `'m28_system'`
   */
  readonly secretsRole?: M28Role;
  /** The rotation scheduler: scan interval, `autoStart`, rotators by scope, reminders. */
  readonly scheduler?: Omit<RotationSchedulerOptions, 'store' | 'secrets' | 'hooks'>;
  /**
   * Per-rule overrides of the alert thresholds; the spec's table by default. The health check
   * failures window defaults to 5 minutes or, when checks are rarer, `critical` times the
   * longest check interval: 25 minutes at the default 300 s interval.
   */
  readonly alerts?: AlertRulesOptions;
  /**
   * Milliseconds between evaluations of the alert rules on the timer.
   * @defaultValue 10000
   */
  readonly alertIntervalMs?: number;
  /**
   * Milliseconds between writes of `operational_metrics` rows, with a store.
   * @defaultValue 60000
   */
  readonly metricsIntervalMs?: number;
  /**
   * Applies the M28 migrations in `start()`.
   * @defaultValue true
   */
  readonly migrate?: boolean;
  /**
   * A breaker that opens on this instance opens on every instance sharing the store, until
   * the same next attempt. The trade-off: one instance with a bad path to a provider trips
   * it for all of them.
   * @defaultValue false
   */
  readonly sharedTrip?: boolean;
  /**
   * With a store, scheduled health checks claim a lease first, so that one instance checks
   * a provider per interval.
   * @defaultValue true
   */
  readonly leaseChecks?: boolean;
}

/** Every event of the parts, on one stream. */
export type OpsEvents = RegistryEvents &
  Omit<MonitorEvents, 'error'> &
  Omit<StoreSinkEvents, 'error'> &
  SecretsEvents &
  Omit<SchedulerEvents, 'error'> &
  Omit<AlertEvents, 'error'> &
  Omit<OperationalMetricsEvents, 'error'> & {
    /** A background task failed; everything keeps running. */
    error: (error: Error) => void;
  };

const FORWARDED = {
  registry: ['breaker:open', 'breaker:half_open', 'breaker:close'],
  monitor: ['health:checked', 'provider:status', 'provider:toggle', 'breaker:reset', 'error'],
  sink: ['store:flushed', 'store:dropped', 'error'],
  secrets: [
    'secret:registered',
    'rotation:started',
    'rotation:completed',
    'rotation:failed',
    'rotation:cancelled',
    'rotation:rolled_back',
  ],
  scheduler: [
    'rotation:due',
    'rotation:overdue',
    'rotation:reminder',
    'scheduler:scanned',
    'rotation:lease_expired',
    'error',
  ],
  alerts: ['alert:raised', 'alert:resolved', 'error'],
  writer: ['metrics:written', 'error'],
} as const;

/** The fields of `options` that are set: optional options take no explicit `undefined`. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

// 3 failed checks in 5 minutes need a check every 100 s; the spec's interval is 300 s.
function alertRules(options: OpsOptions): AlertRulesOptions {
  const rules = options.alerts ?? {};
  const checks = rules.healthCheckFailures;
  if (checks?.windowMs !== undefined) {
    return rules;
  }

  const intervals = Object.values(options.providers ?? {}).map((p) => p.intervalMs ?? 0);
  const longest = Math.max(options.intervalMs ?? 300_000, ...intervals);
  const critical = checks?.critical ?? DEFAULT_ALERT_RULES.health_check_failures.critical;
  const windowMs = checkFailureWindowMs(critical, longest);

  return { ...rules, healthCheckFailures: { ...checks, windowMs } };
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) {
    throw new ValidationError([
      { field: `providers.${key}`, rule: "keys are 'provider/service'", received: key },
    ]);
  }

  return [key.slice(0, slash), key.slice(slash + 1)];
}

/**
 * The breakers, the health monitor and the store's writer, wired together. Build it with
 * {@link createOps}.
 */
export class M28Ops extends EventEmitter<OpsEvents> {
  /** The circuit breakers. */
  readonly breakers: CircuitBreakerRegistry;
  /** The health monitor. */
  readonly monitor: ProviderHealthMonitor;
  /** The store's writer, when there is a store. */
  readonly sink: StoreSink | undefined;
  /** The store, when there is one. */
  readonly store: M28Store | undefined;
  /** The secrets lifecycle, when there is a store. */
  readonly secrets: SecretsManager | undefined;
  /** The rotation scheduler, when there is a store. */
  readonly scheduler: RotationScheduler | undefined;
  /** The alert rules' evaluator. */
  readonly alertEvaluator: AlertEvaluator;
  /** The writer of `operational_metrics` rows, when there is a store. */
  readonly metricsWriter: OperationalMetricsWriter | undefined;
  readonly #sharedTrip: SharedTrip | undefined;
  readonly #collector: MetricsCollector;

  readonly #migrate: boolean;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * @throws {@link ValidationError} for a providers key that is not `'provider/service'`, or
   * an option out of range.
   */
  constructor(options: OpsOptions = {}) {
    super();
    const providers = Object.entries(options.providers ?? {}).map(
      ([key, value]) => [...splitKey(key), value] as const,
    );
    this.store = options.store;
    this.#migrate = options.migrate ?? true;
    this.breakers = new CircuitBreakerRegistry({
      ...(options.defaults ? { defaults: options.defaults } : {}),
    });
    this.monitor = new ProviderHealthMonitor({
      registry: this.breakers,
      ...(options.store ? { store: options.store } : {}),
      // Passed as given, 0 included, so that the monitor validates them.
      ...definedOnly({
        intervalMs: options.intervalMs,
        checkTimeoutMs: options.checkTimeoutMs,
        maxConcurrentChecks: options.maxConcurrentChecks,
        thresholds: options.thresholds,
        leaseChecks: options.leaseChecks,
      }),
    });
    // One id per instance: its shared-trip messages and its breaker reports carry it.
    const instanceId = randomUUID();
    this.#sharedTrip =
      options.store && options.sharedTrip
        ? new SharedTrip(options.store, this.breakers, instanceId, (error) =>
            this.emit('error', error),
          )
        : undefined;
    for (const [provider, service, { check, intervalMs, ...breaker }] of providers) {
      this.breakers.register(provider, service, breaker);
      this.monitor.register(provider, service, check, intervalMs ? { intervalMs } : {});
    }
    this.secrets = options.store
      ? new SecretsManager({
          store: options.store,
          ...(options.secretsRole ? { role: options.secretsRole } : {}),
        })
      : undefined;
    this.scheduler =
      options.store && this.secrets
        ? new RotationScheduler({
            ...options.scheduler,
            store: options.store,
            secrets: this.secrets,
            hooks: this.#maintenanceHooks(),
          })
        : undefined;
    this.alertEvaluator = new AlertEvaluator({
      registry: this.breakers,
      monitor: this.monitor,
      ...(this.scheduler ? { scheduler: this.scheduler } : {}),
      ...(this.secrets ? { secrets: this.secrets } : {}),
      rules: alertRules(options),
      evaluationIntervalMs: timerOption(options.alertIntervalMs, 'alertIntervalMs', 10_000),
    });
    this.sink = options.store
      ? new StoreSink({
          store: options.store,
          registry: this.breakers,
          monitor: this.monitor,
          alerts: this.alertEvaluator,
          instanceId,
          ...definedOnly({
            // Passed as given, 0 included, so that the sink validates them.
            flushIntervalMs: options.flushIntervalMs,
            maxBufferedEvents: options.maxBufferedEvents,
            pollIntervalMs: options.pollIntervalMs,
            storeTimeoutMs: options.storeTimeoutMs,
          }),
        })
      : undefined;
    const metricsIntervalMs = timerOption(options.metricsIntervalMs, 'metricsIntervalMs', 60_000);
    this.metricsWriter = options.store
      ? new OperationalMetricsWriter({
          store: options.store,
          registry: this.breakers,
          monitor: this.monitor,
          intervalMs: metricsIntervalMs,
          ...definedOnly({ storeTimeoutMs: options.storeTimeoutMs }),
        })
      : undefined;
    this.#collector = new MetricsCollector({
      registry: this.breakers,
      monitor: this.monitor,
      ...(options.store ? { store: options.store } : {}),
      ...(this.secrets ? { secrets: this.secrets } : {}),
      ...definedOnly({ storeTimeoutMs: options.storeTimeoutMs }),
      onError: (error) => this.emit('error', error),
    });
    this.#forward(this.breakers, FORWARDED.registry);
    this.#forward(this.monitor, FORWARDED.monitor);
    if (this.sink) {
      this.#forward(this.sink, FORWARDED.sink);
    }
    if (this.secrets && this.scheduler) {
      this.#forward(this.secrets, FORWARDED.secrets);
      this.#forward(this.scheduler, FORWARDED.scheduler);
    }
    this.#forward(this.alertEvaluator, FORWARDED.alerts);
    if (this.metricsWriter) {
      this.#forward(this.metricsWriter, FORWARDED.writer);
    }
  }

  /**
   * The Prometheus text exposition: the spec's provider metrics, breaker states, statuses,
   * calls by outcome, and with a store, secrets by state and rotations by outcome. While the
   * database is down it still answers, without the secrets counts, and emits `error`.
   */
  metrics(): Promise<string> {
    return this.#collector.render();
  }

  /**
   * Registers the same families with prom-client, for a host that already serves a
   * prom-client registry. Their values are read at each scrape.
   * @throws {@link MissingPeerDependencyError} when prom-client is not installed; prom-client's
   * error when a family of the same name is already in the registry.
   */
  registerPromClient(options?: PromClientOptions): Promise<PromClientRegistration> {
    return registerPromClientMetrics(
      this.#collector.specs,
      () => this.#collector.collect(),
      options,
    );
  }

  /** The alerts active now, oldest first. See {@link AlertEvaluator}. */
  alerts(): Alert[] {
    return this.alertEvaluator.alerts();
  }

  // A rotator that asks for downtime puts its provider in maintenance through the audited
  // toggle, as the library's own identity.
  #maintenanceHooks(): RotatorHooks {
    const toggle = (provider: string, service: string, on: boolean, reason: string, until?: Date) =>
      this.monitor
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

  /**
   * Migrates (unless told not to), restores stored state, and starts every timer. Idempotent.
   * @throws the database error when migrating or restoring fails; then nothing runs, and
   * `start()` may be called again. An `M28_CLOSED` {@link M28Error} after `close()`.
   */
  start(): Promise<void> {
    if (this.#closing) {
      return Promise.reject(
        new M28Error('M28_CLOSED', 'this M28Ops was closed: create another to start again'),
      );
    }

    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });

    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.store && this.#migrate) {
      await this.store.migrate();
    }
    await this.sink?.start();
    await this.#sharedTrip?.start();
    // close() may have run meanwhile: it waited for this start, and starts nothing after it.
    if (!this.#closing) {
      this.monitor.start();
      this.scheduler?.start();
      this.alertEvaluator.start();
      this.metricsWriter?.start();
    }
  }

  /**
   * Stops every timer, writes what is buffered, and disposes the breakers. Leaves the store
   * open: whoever opened it closes it. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => undefined);
      this.monitor.close();
      await this.scheduler?.close();
      // Before the sink: the alert transitions made so far are then written by its last flush.
      this.alertEvaluator.close();
      await this.metricsWriter?.close();
      await this.#sharedTrip?.close();
      await this.sink?.close();
      this.breakers.dispose();
    })();

    return this.#closing;
  }

  /** See {@link CircuitBreakerRegistry.wrap}. */
  wrap<A extends unknown[], R>(
    provider: string,
    service: string,
    fn: (...args: A) => R | Promise<R>,
    options?: BreakerOptions,
  ): (...args: A) => Promise<Awaited<R>> {
    return this.breakers.wrap(provider, service, fn, options);
  }

  /** See {@link CircuitBreakerRegistry.fire}. */
  fire<R>(provider: string, service: string, fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return this.breakers.fire(provider, service, fn);
  }

  /** See {@link ProviderHealthMonitor.toggle}. */
  toggle(input: ToggleInput): Promise<HealthStatus> {
    return this.monitor.toggle(input);
  }

  /** See {@link ProviderHealthMonitor.resetBreaker}. */
  resetBreaker(input: ResetBreakerInput): Promise<void> {
    return this.monitor.resetBreaker(input);
  }

  /** See {@link ProviderHealthMonitor.health}. */
  health(filter?: { provider?: string }): ProviderHealthResponse {
    return this.monitor.health(filter);
  }

  #forward(source: EventEmitter, names: readonly string[]): void {
    for (const name of names) {
      source.on(name, (...args: unknown[]) => {
        (this.emit as (event: string, ...rest: unknown[]) => boolean)(name, ...args);
      });
    }
  }
}

/**
 * Builds the breakers, the monitor and, with a store, its writer, with one event stream.
 *
 * @example
 * ```ts
 * const ops = createOps({
 *   store: await connectStore({ url: process.env.DATABASE_URL }),
 *   providers: { 'stripe/payment': { check: () => stripe.balance.retrieve() } },
 * });
 * await ops.start();
 * const charge = ops.wrap('stripe', 'payment', (p: ChargeParams) => stripe.charges.create(p));
 * ```
 */
export function createOps(options: OpsOptions = {}): M28Ops {
  return new M28Ops(options);
}
