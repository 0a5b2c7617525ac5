import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { sql } from 'drizzle-orm';
import { expect } from 'vitest';

import {
  CircuitBreakerRegistry,
  createAdminHandler,
  ProviderHealthMonitor,
  SecretsManager,
  toNodeHandler,
  type AdminHandlerOptions,
  type AdminPrincipal,
  type M28Store,
} from '../../src/index.js';

/** Shared fixtures of the admin API tests: a real node:http server, callers and seed data. */

/** The roles a bearer token may name; the token is the role's short name. */
export const ROLES = ['superadmin', 'admin', 'monitor', 'reader', 'client'] as const;

/** Who calls: a role, or nobody. */
export type Caller = (typeof ROLES)[number] | 'anonymous';

/** Every caller, anonymous last. */
export const CALLERS: readonly Caller[] = [...ROLES, 'anonymous'];

/** A raw provider key. It must never come back in a response. */
export const RAW_KEY = 'sk_live_HTTP_CANARY_51f0c2d9';

/** A well-formed fingerprint of `digit` repeated. */
export const fingerprintOf = (digit: string) => `sha256:${digit.repeat(64)}`;

/** Maps `Authorization: Bearer <role>` to a principal; anything else is unauthenticated. */
export function authenticate(request: Request): AdminPrincipal | null {
  const token = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!token || !(ROLES as readonly string[]).includes(token)) {
    return null;
  }

  return { actor: `${token}@ops.test`, role: token as (typeof ROLES)[number] };
}

/** One answer, read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** What {@link startAdminServer} gives a test. */
export interface AdminServer {
  readonly origin: string;
  readonly secrets: SecretsManager;
  readonly monitor: ProviderHealthMonitor;
  /** Sends a request as `caller`; an object body is sent as JSON. */
  call(
    caller: Caller,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  close(): Promise<void>;
}

/** Serves the admin API for `store` on 127.0.0.1, on a port of its own. */
export async function startAdminServer(
  store: M28Store,
  options: Partial<AdminHandlerOptions> = {},
): Promise<AdminServer> {
  const registry = new CircuitBreakerRegistry();
  const monitor = new ProviderHealthMonitor({ registry, store });
  const secrets = new SecretsManager({ store });
  const handler = createAdminHandler(
    { store, monitor, secrets, metrics: () => 'm28_up 1\n' },
    { authenticate, ...options },
  );
  const server = http.createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: AdminServer['call'] = async (caller, method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (caller !== 'anonymous') {
      (init.headers as Record<string, string>).authorization = `Bearer ${caller}`;
    }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...init.headers };
    }
    const response = await fetch(origin + path, init);
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: /metrics, say.
    }

    return { status: response.status, headers: response.headers, text, body: parsed };
  };

  return {
    origin,
    secrets,
    monitor,
    call,
    close: async () => {
      monitor.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every M28 table. */
export const TABLES = [
  'secrets_config',
  'secrets_rotation_log',
  'provider_health_status',
  'provider_operational_events',
  'provider_config',
  'operational_metrics',
  'audit_log',
  'schema_migrations',
] as const;

/** Rows of every M28 table, read as the connecting superuser. */
export async function countRows(store: M28Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const [row] = await store.query<{ n: number }>(
      sql.raw(`select count(*)::int as n from m28.${table}`),
    );
    counts[table] = row!.n;
  }

  return counts;
}

/** Starts an open emergency rotation as the library's own role; resolves to its id. */
export async function openRotation(secrets: SecretsManager, scope: string, keyName: string) {
  const { rotationId } = await secrets.startRotation({
    scope,
    keyName,
    rotationType: 'emergency',
    force: true,
    actor: 'seed',
  });

  return rotationId;
}

/** Rotates a secret to `version` and completes it, as the library's own role. */
export async function rotateTo(
  secrets: SecretsManager,
  scope: string,
  keyName: string,
  version: string,
) {
  const id = await openRotation(secrets, scope, keyName);
  await secrets.completeRotation(id, {
    version,
    fingerprint: fingerprintOf(version.length % 2 ? 'a' : 'b'),
    affectedServices: ['api'],
    downtimeSeconds: 0,
  });

  return id;
}

/**
 * The spec's secrets and providers: stripe/secret_key (restricted), sendgrid/api_key
 * (confidential) with a completed and a failed rotation, twilio/auth_token (internal) with
 * an open one; stripe/payment and twilio/sms health rows and events.
 */
export async function seed(store: M28Store, secrets: SecretsManager) {
  await secrets.register({ scope: 'stripe', keyName: 'secret_key', keyType: 'secret_key' });
  await secrets.register({ scope: 'sendgrid', keyName: 'api_key', keyType: 'api_key' });
  await secrets.register({
    scope: 'twilio',
    keyName: 'auth_token',
    keyType: 'token',
    dataClassification: 'internal',
  });
  await rotateTo(secrets, 'stripe', 'secret_key', 'v2');
  await rotateTo(secrets, 'sendgrid', 'api_key', 'v2');
  const failed = await openRotation(secrets, 'sendgrid', 'api_key');
  await secrets.failRotation(failed, { reason: 'provider timeout', actor: 'seed' });
  const open = await openRotation(secrets, 'twilio', 'auth_token');

  await store.query(sql`
    insert into m28.provider_health_status (provider_name, service_type, status,
      circuit_breaker_state, circuit_breaker_failures, response_time_ms, success_rate,
      failure_count, last_health_check)
    values ('stripe', 'payment', 'healthy', 'closed', 0, 145, 0.9987, 0, now()),
      ('twilio', 'sms', 'unhealthy', 'open', 5, 900, 0.5, 5, now())`);
  await store.query(sql`
    insert into m28.provider_operational_events (provider_name, service_type, event_type,
      severity, summary)
    values ('stripe', 'payment', 'toggle', 'info', 'stripe/payment enabled'),
      ('twilio', 'sms', 'breaker_open', 'error', 'twilio/sms breaker opened')`);

  return { openRotationId: open };
}

/** Every error body has the same shape, whatever the status. */
export function expectErrorShape(answer: Answer) {
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const { error, ...rest } = answer.body as { error: Record<string, unknown> };
  expect(rest).toEqual({});
  expect(Object.keys(error).sort()).toEqual(
    'fields' in error ? ['code', 'fields', 'message'] : ['code', 'message'],
  );
  expect(error).toMatchObject({
    code: expect.stringMatching(/^M28_/),
    message: expect.any(String),
  });
  for (const field of (error.fields ?? []) as object[]) {
    expect(field).toEqual({ field: expect.any(String), rule: expect.any(String) });
  }
}
