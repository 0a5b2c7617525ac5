import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backends, useDatabase } from '../support/databases.js';
import {
  fingerprintOf,
  openRotation,
  seed,
  startAdminServer,
  type AdminServer,
} from './support.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PROVIDER_KEYS = [
  'provider',
  'service_type',
  'status',
  'circuit_breaker_state',
  'enabled',
  'maintenance_mode',
  'response_time_ms',
  'success_rate',
  'failure_count',
  'last_health_check',
  'available',
];
const HEALTH_SUMMARY_KEYS = ['total_providers', 'healthy', 'unhealthy', 'maintenance', 'disabled'];
const SECRET_KEYS = [
  'scope',
  'key_name',
  'key_type',
  'rotation_schedule',
  'status',
  'last_rotated_at',
  'next_rotation_at',
  'data_classification',
  'rotation_due',
];

describe.each(backends)('createAdminHandler endpoints on %s', (backend) => {
  const database = useDatabase(backend);
  let api: AdminServer;

  beforeAll(async () => {
    api = await startAdminServer(database().store);
    await seed(database().store, api.secrets);
  });
  afterAll(() => api?.close());

  it('answers GET /admin/providers/health with the spec Provider Health Response', async () => {
    const { status, headers, body } = await api.call('admin', 'GET', '/admin/providers/health');

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(body)).toEqual(['providers', 'summary', 'recent_events']);
    expect(body.recent_events).toEqual(expect.any(Array));
    for (const provider of body.providers) {
      expect(Object.keys(provider)).toEqual(expect.arrayContaining(PROVIDER_KEYS));
    }
    expect(body.providers[0]).toMatchObject({
      provider: 'stripe',
      service_type: 'payment',
      status: 'healthy',
      circuit_breaker_state: 'closed',
      enabled: true,
      maintenance_mode: false,
      response_time_ms: 145,
      success_rate: 0.9987,
      failure_count: 0,
      last_health_check: expect.stringMatching(ISO),
      available: true,
    });
    expect(body.providers[1]).toMatchObject({ provider: 'twilio', available: false });
    expect(body.summary).toMatchObject({ total_providers: 2, healthy: 1, unhealthy: 1 });
    expect(Object.keys(body.summary)).toEqual(expect.arrayContaining(HEALTH_SUMMARY_KEYS));
  });

  it('filters health by ?provider=', async () => {
    const { body } = await api.call('monitor', 'GET', '/admin/providers/health?provider=stripe');

    expect(body.providers.map((p: { provider: string }) => p.provider)).toEqual(['stripe']);
    expect(body.summary.total_providers).toBe(1);
  });

  it('toggles a provider with the spec body and shows it in health', async () => {
    const toggle = {
      provider_name: 'stripe',
      service_type: 'payment',
      enabled: false,
      reason: 'Emergency maintenance',
      maintenance_mode: true,
    };
    const answer = await api.call('admin', 'POST', '/admin/providers/toggle', toggle);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ provider_name: 'stripe', status: 'maintenance' });
    const { body } = await api.call('admin', 'GET', '/admin/providers/health?provider=stripe');
    expect(body.providers[0]).toMatchObject({
      status: 'maintenance',
      enabled: false,
      maintenance_mode: true,
      available: false,
    });
    expect(body.summary).toMatchObject({ maintenance: 1 });

    // The spec's "recent events": the toggle's, newest first, of the provider asked for.
    expect(body.recent_events[0]).toMatchObject({
      provider_name: 'stripe',
      service_type: 'payment',
      event_type: 'maintenance_start',
      actor: expect.any(String),
      created_at: expect.stringMatching(ISO),
    });
    expect(
      body.recent_events.every((e: { provider_name: string }) => e.provider_name === 'stripe'),
    ).toBe(true);

    const back = { ...toggle, enabled: true, maintenance_mode: false, reason: 'done' };
    const restored = await api.call('admin', 'POST', '/admin/providers/toggle', back);
    expect(restored.body.status).toBe('healthy');
  });

  it('shows a maintenance window’s end to admin, and not to a monitor', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const toggle = {
      provider_name: 'stripe',
      service_type: 'payment',
      enabled: true,
      reason: 'planned upgrade',
      maintenance_mode: true,
      maintenance_until: until,
    };
    expect((await api.call('admin', 'POST', '/admin/providers/toggle', toggle)).status).toBe(200);
    try {
      const path = '/admin/providers/health?provider=stripe';
      const admin = await api.call('admin', 'GET', path);
      const monitor = await api.call('monitor', 'GET', path);

      expect(admin.body.providers[0]).toMatchObject({ maintenance_mode: true });
      expect(Date.parse(admin.body.providers[0].maintenance_until)).toBe(Date.parse(until));
      expect(monitor.body.providers[0]).toMatchObject({
        maintenance_mode: true,
        maintenance_until: null,
      });
    } finally {
      const back = { ...toggle, maintenance_mode: false, maintenance_until: undefined };
      await api.call('admin', 'POST', '/admin/providers/toggle', { ...back, reason: 'done' });
    }
  });

  it('resets a breaker with POST /admin/providers/reset', async () => {
    const reset = { provider_name: 'twilio', service_type: 'sms', reason: 'provider recovered' };
    const answer = await api.call('admin', 'POST', '/admin/providers/reset', reset);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      provider_name: 'twilio',
      service_type: 'sms',
      circuit_breaker_state: 'closed',
    });
    const { body } = await api.call('admin', 'GET', '/admin/providers/health?provider=twilio');
    expect(body.providers[0]).toMatchObject({ circuit_breaker_state: 'closed', status: 'healthy' });
  });

  it('filters events by provider, severity and since', async () => {
    const path = '/admin/providers/events?provider=twilio&severity=error';
    const { status, body } = await api.call('monitor', 'GET', path);

    expect(status).toBe(200);
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      id: expect.any(String),
      provider_name: 'twilio',
      severity: 'error',
      event_type: 'breaker_open',
      created_at: expect.stringMatching(ISO),
    });
    const future = encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString());
    const later = await api.call('monitor', 'GET', `/admin/providers/events?since=${future}`);
    expect(later.body).toEqual({ events: [] });
  });

  it('answers GET /admin/secrets/status with the spec Secrets Status Response', async () => {
    const { status, body } = await api.call('superadmin', 'GET', '/admin/secrets/status');

    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['secrets', 'summary']);
    expect(Object.keys(body.summary).sort()).toEqual(
      ['total_secrets', 'active', 'rotating', 'due_for_rotation'].sort(),
    );
    for (const secret of body.secrets) {
      expect(Object.keys(secret)).toEqual(expect.arrayContaining(SECRET_KEYS));
    }
    const stripe = body.secrets.find((s: { scope: string }) => s.scope === 'stripe');
    expect(stripe).toMatchObject({
      key_name: 'secret_key',
      key_type: 'secret_key',
      rotation_schedule: 'quarterly',
      status: 'active',
      last_rotated_at: expect.stringMatching(ISO),
      next_rotation_at: expect.stringMatching(ISO),
      data_classification: 'restricted',
      rotation_due: false,
    });
    expect(body.summary).toEqual({ total_secrets: 3, active: 2, rotating: 1, due_for_rotation: 0 });
  });

  it('filters secrets by ?scope=', async () => {
    const { body } = await api.call('admin', 'GET', '/admin/secrets/status?scope=sendgrid');

    expect(body.secrets.map((s: { key_name: string }) => s.key_name)).toEqual(['api_key']);
    expect(body.summary.total_secrets).toBe(1);
  });

  it('rotates, refuses a second rotation, completes once, and rolls back', async () => {
    const rotate = {
      scope: 'sendgrid',
      key_name: 'api_key',
      rotation_type: 'emergency',
      force_rotation: true,
    };
    const started = await api.call('admin', 'POST', '/admin/secrets/rotate', rotate);

    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ rotation_id: expect.stringMatching(UUID) });
    const again = await api.call('admin', 'POST', '/admin/secrets/rotate', rotate);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('M28_ROTATION_IN_PROGRESS');

    const path = `/admin/secrets/rotations/${started.body.rotation_id}/complete`;
    const complete = {
      new_version: 'v3',
      fingerprint: fingerprintOf('c'),
      affected_services: ['api_service', 'webhook_handler'],
      downtime_seconds: 0,
    };
    const done = await api.call('admin', 'POST', path, complete);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ rotation_id: started.body.rotation_id, status: 'completed' });
    const twice = await api.call('admin', 'POST', path, complete);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('M28_ROTATION_NOT_OPEN');

    const rollback = { scope: 'sendgrid', key_name: 'api_key', reason: 'v3 breaks webhooks' };
    const rolled = await api.call('admin', 'POST', '/admin/secrets/rollback', rollback);
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ rotation_type: 'rollback' });
    const { body } = await api.call('admin', 'GET', '/admin/secrets/status?scope=sendgrid');
    expect(body.secrets[0]).toMatchObject({ status: 'active', current_version: 'v2' });
  });

  it.each(['fail', 'cancel'] as const)('ends an open rotation with /%s once', async (end) => {
    const id = await openRotation(api.secrets, 'sendgrid', 'api_key');
    const path = `/admin/secrets/rotations/${id}/${end}`;
    const answer = await api.call('admin', 'POST', path, { reason: 'provider outage' });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      rotation_id: id,
      status: end === 'fail' ? 'failed' : 'cancelled',
    });
    const again = await api.call('admin', 'POST', path, { reason: 'again' });
    expect(again.status).toBe(409);
  });

  it('answers 404 for a rotation that does not exist', async () => {
    const path = '/admin/secrets/rotations/00000000-0000-4000-8000-000000000000/complete';
    const complete = {
      new_version: 'v9',
      fingerprint: fingerprintOf('d'),
      affected_services: [],
      downtime_seconds: 0,
    };
    const answer = await api.call('admin', 'POST', path, complete);

    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('M28_NOT_FOUND');
  });

  it('lists rotations with ISO times, newest first', async () => {
    const { status, body } = await api.call('admin', 'GET', '/admin/secrets/rotations');

    expect(status).toBe(200);
    expect(body.rotations.length).toBeGreaterThan(3);
    for (const rotation of body.rotations) {
      expect(rotation.id).toMatch(UUID);
      expect(rotation.initiated_at).toMatch(ISO);
      expect(rotation.completed_at === null || ISO.test(rotation.completed_at)).toBe(true);
    }
    const times = body.rotations.map((r: { initiated_at: string }) => r.initiated_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('serves GET /metrics as Prometheus text', async () => {
    const answer = await api.call('monitor', 'GET', '/metrics');

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.text).toBe('m28_up 1\n');
  });
});
