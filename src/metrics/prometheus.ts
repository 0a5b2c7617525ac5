import type { BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import { BREAKER_STATES, HEALTH_STATUSES, type HealthStatus } from '../domain/vocabularies.js';

/** What the exposition is drawn from: live breakers and statuses, and secrets counts. */
export interface MetricsSource {
  /** A snapshot of every breaker: one set of provider samples each. */
  readonly breakers: readonly BreakerSnapshot[];
  /** A provider's derived status and response time, or undefined when unknown. */
  statusOf(
    provider: string,
    service: string,
  ):
    | {
        /** The derived status. */
        status: HealthStatus;
        /** Average response time of recent calls, in milliseconds, or null (exposed as 0). */
        responseTimeMs: number | null;
      }
    | undefined;
  /** Secrets by state, when a store is attached. */
  readonly secrets?: {
    /** Active secrets whose next rotation date has passed. */
    due: number;
    /** Active secrets more than a day past their next rotation date. */
    overdue: number;
    /** Secrets with a rotation in progress. */
    rotating: number;
  };
  /** Rotations by outcome since start. */
  readonly rotations?: Readonly<Record<string, number>>;
}

/** The name, type, help and label names of one metric family. */
export interface MetricFamilySpec {
  /** The metric name, such as `provider_available`. */
  readonly name: string;
  /** `gauge` or `counter`. */
  readonly type: 'gauge' | 'counter';
  /** The HELP text. */
  readonly help: string;
  /** Every label its samples carry. */
  readonly labelNames: readonly string[];
  /** Whether the family exists only with a store: the secrets families. */
  readonly needsStore: boolean;
}

/** One sample of a family. */
export interface MetricSample {
  /** Label values by label name. */
  readonly labels: Readonly<Record<string, string>>;
  /** The value; not finite values are exposed as 0. */
  readonly value: number;
}

/** A metric family and its samples, as collected at one moment. */
export interface MetricFamily extends MetricFamilySpec {
  /** The samples, in exposition order. */
  readonly samples: readonly MetricSample[];
}

const PROVIDER = ['provider', 'service'] as const;

function spec(
  name: string,
  type: MetricFamilySpec['type'],
  help: string,
  labelNames: readonly string[],
  needsStore = false,
): MetricFamilySpec {
  return { name, type, help, labelNames, needsStore };
}

/**
 * Every family the library exposes, in exposition order: the spec's three provider metrics
 * first, with the spec's `provider` and `service` labels.
 */
export const METRIC_FAMILIES: readonly MetricFamilySpec[] = [
  spec('provider_available', 'gauge', 'Whether the provider takes calls now (1) or not.', PROVIDER),
  spec(
    'provider_response_time',
    'gauge',
    'Average response time of recent calls, in ms.',
    PROVIDER,
  ),
  spec(
    'provider_circuit_breaker_failures',
    'gauge',
    'Consecutive failures counted toward opening the breaker.',
    PROVIDER,
  ),
  spec('provider_circuit_breaker_state', 'gauge', 'The breaker state: 1 for the current.', [
    ...PROVIDER,
    'state',
  ]),
  spec('provider_status', 'gauge', 'The derived health status: 1 for the current.', [
    ...PROVIDER,
    'status',
  ]),
  spec('provider_calls_total', 'counter', 'Calls through the breaker, by outcome.', [
    ...PROVIDER,
    'outcome',
  ]),
  spec('provider_rejections_total', 'counter', 'Calls refused without reaching the provider.', [
    ...PROVIDER,
  ]),
  spec('secrets_rotation_state', 'gauge', 'Secrets due, overdue and rotating.', ['state'], true),
  spec(
    'secret_rotations_total',
    'counter',
    'Rotations ended since start, by outcome.',
    ['outcome'],
    true,
  ),
];

/** Escapes a label value for the text format: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function providerSamples(source: MetricsSource): Map<string, MetricSample[]> {
  const out = new Map<string, MetricSample[]>(METRIC_FAMILIES.map((f) => [f.name, []]));
  const add = (name: string, labels: Record<string, string>, value: number) =>
    out.get(name)?.push({ labels, value });

  for (const breaker of source.breakers) {
    const key = { provider: breaker.provider, service: breaker.service };
    const status = source.statusOf(breaker.provider, breaker.service);
    const c = breaker.counters;
    const available = breaker.access.kind === 'enabled' && breaker.circuit.state !== 'open';
    add('provider_available', key, available ? 1 : 0);
    add('provider_response_time', key, status?.responseTimeMs ?? 0);
    add('provider_circuit_breaker_failures', key, breaker.consecutiveFailures);
    for (const state of BREAKER_STATES) {
      const value = breaker.circuit.state === state ? 1 : 0;
      add('provider_circuit_breaker_state', { ...key, state }, value);
    }
    for (const name of HEALTH_STATUSES) {
      add('provider_status', { ...key, status: name }, status?.status === name ? 1 : 0);
    }
    add('provider_calls_total', { ...key, outcome: 'success' }, c.successes);
    add('provider_calls_total', { ...key, outcome: 'failure' }, c.failures - c.timeouts);
    add('provider_calls_total', { ...key, outcome: 'timeout' }, c.timeouts);
    add('provider_calls_total', { ...key, outcome: 'rejected' }, c.rejects);
    add('provider_rejections_total', key, c.rejects);
  }
  for (const [state, value] of Object.entries(source.secrets ?? {})) {
    add('secrets_rotation_state', { state }, value);
  }
  for (const [outcome, value] of Object.entries(source.rotations ?? {})) {
    add('secret_rotations_total', { outcome }, value);
  }

  return out;
}

/**
 * The families and their samples, in exposition order. The secrets families are left out
 * when the source has no secrets counts, or no rotation counts.
 */
export function collectMetricFamilies(source: MetricsSource): MetricFamily[] {
  const samples = providerSamples(source);
  const present: Readonly<Record<string, boolean>> = {
    secrets_rotation_state: source.secrets !== undefined,
    secret_rotations_total: source.rotations !== undefined,
  };

  return METRIC_FAMILIES.filter((family) => present[family.name] ?? true).map((family) => ({
    ...family,
    samples: samples.get(family.name) ?? [],
  }));
}

function sampleLine(name: string, sample: MetricSample): string {
  const labels = Object.entries(sample.labels)
    .map(([label, value]) => `${label}="${escapeLabel(value)}"`)
    .join(',');
  const value = Number.isFinite(sample.value) ? sample.value : 0;

  return `${name}{${labels}} ${value}`;
}

/**
 * Formats families as the Prometheus text exposition (format 0.0.4): HELP and TYPE lines
 * before each family's samples, label values escaped, one trailing newline.
 */
export function formatMetricFamilies(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(sampleLine(family.name, sample));
    }
  }

  return `${lines.join('\n')}\n`;
}

/**
 * Renders the Prometheus text exposition (format 0.0.4) with the spec's metric names
 * (`provider_available`, `provider_response_time`, `provider_circuit_breaker_failures`) and
 * the library's own: breaker state, provider status, calls by outcome, secrets by state and
 * rotations by outcome.
 */
export function renderMetrics(source: MetricsSource): string {
  return formatMetricFamilies(collectMetricFamilies(source));
}
