import { randomUUID } from 'node:crypto';

import { EventEmitter } from 'eventemitter3';

import { CircuitBreakerRegistry } from './breakers/CircuitBreakerRegistry.js';
import type { BreakerOptions, WrapOptions } from './breakers/options.js';
import type { HealthStatus } from './domain/vocabularies.js';
import { M28Error } from './errors/M28Error.js';
import type { ValidationError } from './errors/ValidationError.js';
import { ProviderHealthMonitor } from './health/ProviderHealthMonitor.js';
import type { ResetBreakerInput, ToggleInput } from './health/toggles.js';
import type { ProviderHealthResponse } from './health/types.js';
import { AlertEvaluator } from './metrics/AlertEvaluator.js';
import type { Alert } from './metrics/alerts.js';
import { MetricsCollector } from './metrics/MetricsCollector.js';
import { OperationalMetricsWriter } from './metrics/OperationalMetricsWriter.js';
import { timerOption } from './metrics/options.js';
import {
  registerPromClientMetrics,
  type PromClientOptions,
  type PromClientRegistration,
} from './metrics/promClient.js';
import { alertRules, definedOnly, maintenanceHooks, splitKey } from './opsConfig.js';
import { forwardParts, type OpsEvents } from './opsEvents.js';
import type { OpsOptions } from './opsOptions.js';
import { RotationScheduler } from './rotation/RotationScheduler.js';
import { SecretsManager } from './secrets/SecretsManager.js';
import type { M28Store } from './store/M28Store.js';
import { SharedTrip } from './store/SharedTrip.js';
import { StoreSink } from './store/StoreSink.js';

export type { OpsEvents } from './opsEvents.js';
export type { OpsOptions, ProviderOptions } from './opsOptions.js';

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
        successRateWindowMs: options.successRateWindowMs,
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
            hooks: maintenanceHooks(this.monitor),
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
    forwardParts(this, {
      registry: this.breakers,
      monitor: this.monitor,
      sink: this.sink,
      secrets: this.secrets,
      scheduler: this.scheduler,
      alerts: this.alertEvaluator,
      writer: this.metricsWriter,
    });
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
    options?: WrapOptions<A, Awaited<R>>,
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
