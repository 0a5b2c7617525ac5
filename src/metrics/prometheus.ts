import type { BreakerSnapshot } from '../breakers/ProviderBreaker.js';
import { BREAKER_STATES, HEALTH_STATUSES, type HealthStatus } from '../domain/vocabularies.js';

/** What the exposition is drawn from: live breakers and statuses, and secrets counts. */
export interface MetricsSource {
  readonly breakers: readonly BreakerSnapshot[];
  statusOf(
    provider: string,
    service: string,
  ): { status: HealthStatus; responseTimeMs: number | null } | undefined;
  /** Secrets by state, when a store is attached. */
  readonly secrets?: { due: number; overdue: number; rotating: number };
  /** Rotations by outcome since start. */
  readonly rotations?: Readonly<Record<string, number>>;
}

/** Escapes a label value for the text format: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',');

  return `{${body}}`;
}

class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter', help: string): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    return this;
  }

  sample(name: string, pairs: Record<string, string>, value: number): this {
    this.#lines.push(`${name}${labels(pairs)} ${Number.isFinite(value) ? value : 0}`);

    return this;
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/**
 * Renders the Prometheus text exposition (format 0.0.4) with the spec's metric names
 * (`provider_available`, `provider_response_time`, `provider_circuit_breaker_failures`) and
 * the library's own: breaker state, provider status, calls by outcome, secrets by state and
 * rotations by outcome.
 */
export function renderMetrics(source: MetricsSource): string {
  const out = new Exposition();
  const keyed = source.breakers.map((breaker) => ({
    breaker,
    key: { provider: breaker.provider, service: breaker.service },
    status: source.statusOf(breaker.provider, breaker.service),
  }));

  out.family('provider_available', 'gauge', 'Whether the provider takes calls now (1) or not (0).');
  for (const { breaker, key } of keyed) {
    const available = breaker.access.kind === 'enabled' && breaker.circuit.state !== 'open' ? 1 : 0;
    out.sample('provider_available', key, available);
  }
  out.family('provider_response_time', 'gauge', 'Average response time of recent calls, in ms.');
  for (const { key, status } of keyed) {
    out.sample('provider_response_time', key, status?.responseTimeMs ?? 0);
  }
  out.family(
    'provider_circuit_breaker_failures',
    'gauge',
    'Consecutive failures counted toward opening the breaker.',
  );
  for (const { breaker, key } of keyed) {
    out.sample('provider_circuit_breaker_failures', key, breaker.consecutiveFailures);
  }
  out.family('provider_circuit_breaker_state', 'gauge', 'The breaker state: 1 for the current.');
  for (const { breaker, key } of keyed) {
    for (const state of BREAKER_STATES) {
      const value = breaker.circuit.state === state ? 1 : 0;
      out.sample('provider_circuit_breaker_state', { ...key, state }, value);
    }
  }
  out.family('provider_status', 'gauge', 'The derived health status: 1 for the current.');
  for (const { key, status } of keyed) {
    for (const name of HEALTH_STATUSES) {
      out.sample('provider_status', { ...key, status: name }, status?.status === name ? 1 : 0);
    }
  }
  out.family('provider_calls_total', 'counter', 'Calls through the breaker, by outcome.');
  for (const { breaker, key } of keyed) {
    const c = breaker.counters;
    out.sample('provider_calls_total', { ...key, outcome: 'success' }, c.successes);
    out.sample('provider_calls_total', { ...key, outcome: 'failure' }, c.failures - c.timeouts);
    out.sample('provider_calls_total', { ...key, outcome: 'timeout' }, c.timeouts);
    out.sample('provider_calls_total', { ...key, outcome: 'rejected' }, c.rejects);
  }
  out.family(
    'provider_rejections_total',
    'counter',
    'Calls refused without reaching the provider.',
  );
  for (const { breaker, key } of keyed) {
    out.sample('provider_rejections_total', key, breaker.counters.rejects);
  }

  if (source.secrets) {
    out.family('secrets_rotation_state', 'gauge', 'Secrets due, overdue and rotating.');
    for (const [state, value] of Object.entries(source.secrets)) {
      out.sample('secrets_rotation_state', { state }, value);
    }
  }
  if (source.rotations) {
    out.family('secret_rotations_total', 'counter', 'Rotations ended since start, by outcome.');
    for (const [outcome, value] of Object.entries(source.rotations)) {
      out.sample('secret_rotations_total', { outcome }, value);
    }
  }

  return out.toString();
}
