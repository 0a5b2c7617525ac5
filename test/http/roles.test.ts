import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backends, useDatabase } from '../support/databases.js';
import {
  CALLERS,
  countRows,
  expectErrorShape,
  fingerprintOf,
  openRotation,
  rotateTo,
  seed,
  startAdminServer,
  type AdminServer,
  type Caller,
} from './support.js';

type Row = Record<Caller, number>;

/** Readable by monitor too: health, events, completed rotations, metrics. */
const MONITOR_READS: Row = {
  superadmin: 200,
  admin: 200,
  monitor: 200,
  reader: 403,
  client: 403,
  anonymous: 401,
};
/** Admin and superadmin only. */
const adminOnly = (ok: number): Row => ({
  superadmin: ok,
  admin: ok,
  monitor: 403,
  reader: 403,
  client: 403,
  anonymous: 401,
});

/** The spec's access matrix, per endpoint and caller. */
const EXPECTED: Record<string, Row> = {
  'GET /admin/providers/health': MONITOR_READS,
  'GET /admin/providers/health?provider=stripe': MONITOR_READS,
  'POST /admin/providers/toggle': adminOnly(200),
  'POST /admin/providers/reset': adminOnly(200),
  'GET /admin/providers/events': MONITOR_READS,
  'GET /admin/secrets/status': adminOnly(200),
  'GET /admin/secrets/status?scope=sendgrid': adminOnly(200),
  'POST /admin/secrets/rotate': adminOnly(201),
  'POST /admin/secrets/rotations/:id/complete': adminOnly(200),
  'POST /admin/secrets/rotations/:id/fail': adminOnly(200),
  'POST /admin/secrets/rotations/:id/cancel': adminOnly(200),
  'POST /admin/secrets/rollback': adminOnly(200),
  'GET /admin/secrets/rotations': MONITOR_READS,
  'GET /metrics': MONITOR_READS,
};

/** Secrets of the caller's own, so that each caller's changes could succeed. */
async function prepare(api: AdminServer, caller: Caller) {
  const scope = `matrix_${caller}`;
  for (const keyName of ['rotate', 'complete', 'fail', 'cancel', 'rollback']) {
    await api.secrets.register({ scope, keyName, keyType: 'api_key' });
  }
  await rotateTo(api.secrets, scope, 'rollback', 'v1');
  await rotateTo(api.secrets, scope, 'rollback', 'v2');

  return {
    scope,
    complete: await openRotation(api.secrets, scope, 'complete'),
    fail: await openRotation(api.secrets, scope, 'fail'),
    cancel: await openRotation(api.secrets, scope, 'cancel'),
  };
}

type Fixture = Awaited<ReturnType<typeof prepare>>;

/** The request behind each endpoint of {@link EXPECTED}, for one caller. */
function requestFor(endpoint: string, caller: Caller, f: Fixture): [string, string, unknown?] {
  const [method, template] = endpoint.split(' ') as [string, string];
  const provider = { provider_name: `p_${caller}`, service_type: 'payment' };
  const rotation = (id: string) => template.replace(':id', id);
  switch (endpoint) {
    case 'POST /admin/providers/toggle':
      return [method, template, { ...provider, enabled: false, reason: 'matrix' }];
    case 'POST /admin/providers/reset':
      return [method, template, { ...provider, reason: 'matrix' }];
    case 'POST /admin/secrets/rotate':
      return [
        method,
        template,
        {
          scope: f.scope,
          key_name: 'rotate',
          rotation_type: 'manual',
          force_rotation: true,
        },
      ];
    case 'POST /admin/secrets/rotations/:id/complete':
      return [
        method,
        rotation(f.complete),
        {
          new_version: 'v9',
          fingerprint: fingerprintOf('9'),
          affected_services: ['api'],
          downtime_seconds: 0,
        },
      ];
    case 'POST /admin/secrets/rotations/:id/fail':
      return [method, rotation(f.fail), { reason: 'matrix' }];
    case 'POST /admin/secrets/rotations/:id/cancel':
      return [method, rotation(f.cancel), { reason: 'matrix' }];
    case 'POST /admin/secrets/rollback':
      return [method, template, { scope: f.scope, key_name: 'rollback', reason: 'matrix' }];
    default:
      return [method, template];
  }
}

describe.each(backends)('createAdminHandler access matrix on %s', (backend) => {
  const database = useDatabase(backend);
  let api: AdminServer;
  let restrictedId: string;

  beforeAll(async () => {
    api = await startAdminServer(database().store);
    await seed(database().store, api.secrets);
    const [row] = await database().store.query<{ id: string }>(
      sql`select id::text from m28.secrets_config where data_classification = 'restricted'`,
    );
    restrictedId = row!.id;
  });
  afterAll(() => api?.close());

  it('answers every endpoint for every caller as the access matrix says', async () => {
    const store = database().store;
    const actual: Record<string, Partial<Row>> = {};
    for (const caller of CALLERS) {
      const fixture = await prepare(api, caller);
      for (const endpoint of Object.keys(EXPECTED)) {
        const [method, path, body] = requestFor(endpoint, caller, fixture);
        const before = await countRows(store);
        const answer = await api.call(caller, method, path, body);
        if (answer.status >= 400) {
          expectErrorShape(answer);
          expect(await countRows(store), `${caller} ${endpoint}`).toEqual(before);
        }
        (actual[endpoint] ??= {})[caller] = answer.status;
      }
    }

    expect(actual).toEqual(EXPECTED);
  });

  it('hides restricted secrets from admin and shows them to superadmin', async () => {
    const admin = await api.call('admin', 'GET', '/admin/secrets/status');
    const superadmin = await api.call('superadmin', 'GET', '/admin/secrets/status');
    const classes = (answer: typeof admin) =>
      new Set(
        answer.body.secrets.map((s: { data_classification: string }) => s.data_classification),
      );

    expect(classes(admin).has('restricted')).toBe(false);
    expect(classes(superadmin).has('restricted')).toBe(true);
    expect(superadmin.body.summary.total_secrets).toBe(admin.body.summary.total_secrets + 1);
    const scoped = await api.call('admin', 'GET', '/admin/secrets/status?scope=stripe');
    expect(scoped.body).toEqual({
      secrets: [],
      summary: { total_secrets: 0, active: 0, rotating: 0, due_for_rotation: 0 },
    });
  });

  it('answers 404 to admin rotating a restricted secret, and 201 to superadmin', async () => {
    const store = database().store;
    const rotate = {
      scope: 'stripe',
      key_name: 'secret_key',
      rotation_type: 'emergency',
      force_rotation: true,
    };
    const before = await countRows(store);
    const admin = await api.call('admin', 'POST', '/admin/secrets/rotate', rotate);

    expect(admin.status).toBe(404);
    expect(admin.body.error.code).toBe('M28_NOT_FOUND');
    expect(admin.text).not.toContain('secret_key');
    expect(await countRows(store)).toEqual(before);

    const superadmin = await api.call('superadmin', 'POST', '/admin/secrets/rotate', rotate);
    expect(superadmin.status).toBe(201);
    const path = `/admin/secrets/rotations/${superadmin.body.rotation_id}/cancel`;
    const cancelByAdmin = await api.call('admin', 'POST', path, { reason: 'not mine' });
    expect(cancelByAdmin.status).toBe(404);
    const cancel = await api.call('superadmin', 'POST', path, { reason: 'test done' });
    expect(cancel.status).toBe(200);
  });

  it('shows a restricted secret’s rotations to superadmin only', async () => {
    const ofRestricted = (answer: { body: { rotations: { secret_config_id: string }[] } }) =>
      answer.body.rotations.filter((r) => r.secret_config_id === restrictedId).length;

    expect(ofRestricted(await api.call('admin', 'GET', '/admin/secrets/rotations'))).toBe(0);
    expect(
      ofRestricted(await api.call('superadmin', 'GET', '/admin/secrets/rotations')),
    ).toBeGreaterThan(0);
  });

  it('shows monitor the completed rotations only, and no secret', async () => {
    const [{ completed }] = (await database().store.query<{ completed: number }>(
      sql`select count(*)::int as completed from m28.secrets_rotation_log
        where status = 'completed'`,
    )) as [{ completed: number }];
    const answer = await api.call('monitor', 'GET', '/admin/secrets/rotations?limit=1000');

    expect(answer.status).toBe(200);
    expect(new Set(answer.body.rotations.map((r: { status: string }) => r.status))).toEqual(
      new Set(['completed']),
    );
    expect(answer.body.rotations).toHaveLength(completed);
    const secrets = await api.call('monitor', 'GET', '/admin/secrets/status');
    expect(secrets.status).toBe(403);
    expect(secrets.body).not.toHaveProperty('secrets');
  });
});
