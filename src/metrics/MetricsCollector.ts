import { sql } from 'drizzle-orm';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { SecretsEvents } from '../secrets/types.js';
import { asError, withDeadline } from '../store/deadline.js';
import type { M28Store } from '../store/M28Store.js';
import type { Listenable } from './options.js';
import {
  METRIC_FAMILIES,
  collectMetricFamilies,
  formatMetricFamilies,
  type MetricFamily,
  type MetricFamilySpec,
} from './prometheus.js';

/** Options of {@link MetricsCollector}. */
export interface MetricsCollectorOptions {
  /** The breakers whose state and counters are exposed. */
  readonly registry: Pick<CircuitBreakerRegistry, 'list'>;
  /** The monitor whose statuses and response times are exposed. */
  readonly monitor: Pick<ProviderHealthMonitor, 'statusOf'>;
  /** Where secrets are counted by state; without one, the secrets families are left out. */
  readonly store?: M28Store;
  /** Whose rotation outcomes are counted. */
  readonly secrets?: Listenable<SecretsEvents>;
  /**
   * Milliseconds the secrets count may take before the exposition goes without it.
   * @defaultValue 30000
   */
  readonly storeTimeoutMs?: number;
  /** Told of a secrets count that failed; the exposition is served without it. */
  readonly onError?: (error: Error) => void;
}

interface SecretCounts {
  due: number;
  overdue: number;
  rotating: number;
}

const ROTATION_OUTCOMES = {
  'rotation:completed': 'completed',
  'rotation:failed': 'failed',
  'rotation:cancelled': 'cancelled',
  'rotation:rolled_back': 'rolled_back',
} as const;

/**
 * Collects the metric families of one instance: live breakers and statuses from memory,
 * rotation outcomes counted from events, and secrets by state from one query per scrape.
 * A scrape while the database is down still answers, without the secrets counts.
 */
export class MetricsCollector {
  readonly #options: MetricsCollectorOptions;
  readonly #storeTimeoutMs: number;
  readonly #rotations: Record<string, number> = {
    completed: 0,
    failed: 0,
    cancelled: 0,
    rolled_back: 0,
  };

  /** Starts counting rotation outcomes at once; the rest is read at each collection. */
  constructor(options: MetricsCollectorOptions) {
    this.#options = options;
    this.#storeTimeoutMs = options.storeTimeoutMs ?? 30_000;
    for (const [event, outcome] of Object.entries(ROTATION_OUTCOMES)) {
      options.secrets?.on(event as keyof SecretsEvents, () => {
        this.#rotations[outcome] = (this.#rotations[outcome] ?? 0) + 1;
      });
    }
  }

  /** The families this collector can expose: the secrets ones only with a store. */
  get specs(): readonly MetricFamilySpec[] {
    return METRIC_FAMILIES.filter((family) => !family.needsStore || this.#options.store);
  }

  /** Every family and its samples now. Never rejects for the database's sake. */
  async collect(): Promise<MetricFamily[]> {
    const { registry, monitor, store } = this.#options;
    const secrets = store ? await this.#secretCounts(store) : undefined;

    return collectMetricFamilies({
      breakers: registry.list(),
      statusOf: (provider, service) => monitor.statusOf(provider, service),
      ...(secrets ? { secrets } : {}),
      ...(store ? { rotations: { ...this.#rotations } } : {}),
    });
  }

  /** The Prometheus text exposition of {@link MetricsCollector.collect}. */
  async render(): Promise<string> {
    return formatMetricFamilies(await this.collect());
  }

  async #secretCounts(store: M28Store): Promise<SecretCounts | undefined> {
    const query = store.withRole('m28_system', (tx) =>
      store.query<SecretCounts>(
        sql`select
            count(*) filter (where status = 'active' and next_rotation_at <= now())::int as due,
            count(*) filter (where status = 'active'
              and next_rotation_at <= now() - interval '1 day')::int as overdue,
            count(*) filter (where status = 'rotating')::int as rotating
          from m28.secrets_config`,
        tx,
      ),
    );
    try {
      const [row] = await withDeadline(query, this.#storeTimeoutMs, 'a secrets count');

      return row ?? { due: 0, overdue: 0, rotating: 0 };
    } catch (error) {
      this.#options.onError?.(asError(error));

      return undefined;
    }
  }
}
