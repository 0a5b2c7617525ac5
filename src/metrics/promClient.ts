import { MissingPeerDependencyError } from '../errors/MissingPeerDependencyError.js';
import type { MetricFamily, MetricFamilySpec } from './prometheus.js';

/**
 * The part of a prom-client `Registry` used here; prom-client's own `Registry` fits. Typed
 * structurally, so that the package's types do not need prom-client installed.
 */
export interface PromClientRegistry {
  /** Adds a metric to the registry. */
  registerMetric(metric: never): void;
  /** Removes the metric of that name from the registry. */
  removeSingleMetric(name: string): void;
}

/** Options of {@link registerPromClientMetrics}. */
export interface PromClientOptions {
  /**
   * The registry the metrics join.
   * @defaultValue prom-client's global `register`
   */
  readonly registry?: PromClientRegistry;
}

/** Metrics registered with prom-client, and how to take them out again. */
export interface PromClientRegistration {
  /** The names registered. */
  readonly names: readonly string[];
  /** Removes every one of them from the registry. Idempotent. */
  unregister(): void;
}

type PromClient = typeof import('prom-client');

async function loadPromClient(): Promise<PromClient> {
  try {
    const loaded = (await import('prom-client')) as PromClient & { default?: PromClient };

    // The CommonJS module may arrive as the default export only.
    return loaded.Gauge ? loaded : (loaded.default as PromClient);
  } catch (error) {
    throw new MissingPeerDependencyError(
      'prom-client',
      'Registering metrics with prom-client',
      error,
    );
  }
}

/**
 * Registers the given families with prom-client: each one a `Gauge` or `Counter` whose
 * values are read from `collect` at scrape time, so that prom-client's exposition shows the
 * same families and samples as the library's own. One scrape calls `collect` once, however
 * many families it reads. prom-client is loaded here, on demand, and never before.
 *
 * @throws {@link MissingPeerDependencyError} when prom-client is not installed.
 * @throws prom-client's error when a metric of the same name is already registered; then
 * nothing stays registered.
 */
export async function registerPromClientMetrics(
  families: readonly MetricFamilySpec[],
  collect: () => Promise<readonly MetricFamily[]>,
  options: PromClientOptions = {},
): Promise<PromClientRegistration> {
  const client = await loadPromClient();
  const registry = (options.registry ?? client.register) as unknown as PromClientRegistry;
  let scrape: Promise<Map<string, MetricFamily>> | undefined;
  // prom-client asks every metric of a scrape in the same turn: they share one collection.
  const current = () => {
    scrape ??= collect()
      .then((all) => new Map(all.map((family) => [family.name, family])))
      .finally(() => {
        scrape = undefined;
      });

    return scrape;
  };

  const registered: string[] = [];
  try {
    for (const spec of families) {
      const config = {
        name: spec.name,
        help: spec.help,
        labelNames: [...spec.labelNames],
        registers: [] as never[],
      };
      if (spec.type === 'counter') {
        const counter = new client.Counter({
          ...config,
          async collect() {
            const family = (await current()).get(spec.name);
            this.reset();
            for (const sample of family?.samples ?? []) {
              this.inc(sample.labels, Number.isFinite(sample.value) ? sample.value : 0);
            }
          },
        });
        registry.registerMetric(counter as never);
      } else {
        const gauge = new client.Gauge({
          ...config,
          async collect() {
            const family = (await current()).get(spec.name);
            this.reset();
            for (const sample of family?.samples ?? []) {
              this.set(sample.labels, Number.isFinite(sample.value) ? sample.value : 0);
            }
          },
        });
        registry.registerMetric(gauge as never);
      }
      registered.push(spec.name);
    }
  } catch (error) {
    for (const name of registered) {
      registry.removeSingleMetric(name);
    }
    throw error;
  }

  let removed = false;

  return {
    names: registered,
    unregister: () => {
      if (removed) {
        return;
      }

      removed = true;
      for (const name of registered) {
        registry.removeSingleMetric(name);
      }
    },
  };
}
