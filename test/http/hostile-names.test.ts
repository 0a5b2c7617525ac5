import http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAdminHandler, type AdminRole, type ErrorBody } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  countRows,
  expectErrorShape,
  seed,
  startAdminServer,
  type AdminServer,
} from './support.js';

const INJECTION = "stripe'; drop table m28.audit_log; --";
const CRLF = 'twi\r\nlio';

/** A raw request, so that headers fetch would refuse can be sent. */
function rawRequest(origin: string, options: http.RequestOptions, body?: string) {
  const { hostname, port } = new URL(origin);

  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request({ hostname, port, ...options }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe.each(backends)('createAdminHandler with hostile names on %s', (backend) => {
  const database = useDatabase(backend);
  let api: AdminServer;

  beforeAll(async () => {
    api = await startAdminServer(database().store);
    await seed(database().store, api.secrets);
  });
  afterAll(() => api?.close());

  it.each([
    ['SQL metacharacters', INJECTION],
    ['CRLF', CRLF],
    ['quotes, backslashes and unicode', 'a"b\\c\u0000'.replace('\u0000', '') + 'ø🔑'],
  ])('stores and returns a provider name with %s verbatim', async (_, name) => {
    const store = database().store;
    const before = await countRows(store);
    const toggle = {
      provider_name: name,
      service_type: 'payment',
      enabled: false,
      reason: `disable ${name}`,
    };
    const answer = await api.call('admin', 'POST', '/admin/providers/toggle', toggle);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ provider_name: name, status: 'disabled' });
    const path = `/admin/providers/health?provider=${encodeURIComponent(name)}`;
    const { body } = await api.call('monitor', 'GET', path);
    expect(body.providers).toEqual([
      expect.objectContaining({ provider: name, service_type: 'payment', status: 'disabled' }),
    ]);
    const events = await api.call(
      'admin',
      'GET',
      `/admin/providers/events?provider=${path.split('=')[1]}`,
    );
    expect(events.body.events[0]).toMatchObject({ provider_name: name, event_type: 'toggle' });

    // One config row, one health row, one event and one audit row: nothing else.
    expect(await countRows(store)).toEqual({
      ...before,
      provider_config: before.provider_config! + 1,
      provider_health_status: before.provider_health_status! + 1,
      provider_operational_events: before.provider_operational_events! + 1,
      audit_log: before.audit_log! + 1,
    });
  });

  it('keeps the other providers as they were', async () => {
    const { body } = await api.call('admin', 'GET', '/admin/providers/health?provider=stripe');

    expect(body.providers).toEqual([
      expect.objectContaining({ provider: 'stripe', status: 'healthy', enabled: true }),
    ]);
  });

  it('answers a Host header that is no host with 400 and keeps serving', async () => {
    const headers = { host: 'a b', authorization: 'Bearer admin' };
    const answer = await rawRequest(api.origin, { path: '/admin/providers/health', headers });

    expect(answer.status).toBe(400);
    const after = await api.call('admin', 'GET', '/admin/providers/health');
    expect(after.status).toBe(200);
  });

  it('routes an absolute-form request target by its path', async () => {
    const answer = await rawRequest(api.origin, {
      path: 'http://elsewhere.test/admin/providers/health',
      headers: { authorization: 'Bearer admin' },
    });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toHaveProperty('providers');
  });

  it('answers a role the database does not know with 403, not echoing it', async () => {
    const handler = createAdminHandler(
      { store: database().store, monitor: api.monitor, secrets: api.secrets },
      { authenticate: () => ({ actor: 'mallory', role: 'm28_root' as AdminRole }) },
    );
    const answer = await handler(new Request('http://x/admin/providers/health'));
    const body = await answer.json();

    expect(answer.status).toBe(403);
    expect(JSON.stringify(body)).not.toContain('m28_root');
  });

  it('answers an authenticate that throws with a bare 500', async () => {
    const handler = createAdminHandler(
      { store: database().store, monitor: api.monitor, secrets: api.secrets },
      {
        authenticate: () => {
          throw new Error('token store down: password=hunter2');
        },
      },
    );
    const answer = await handler(new Request('http://x/admin/providers/health'));
    const text = await answer.text();

    expect(answer.status).toBe(500);
    expect(text).not.toContain('hunter2');
    expectErrorShape({ status: 500, headers: answer.headers, text, body: JSON.parse(text) });
  });

  it('answers 503 without a store', async () => {
    const handler = createAdminHandler(
      { store: undefined, monitor: api.monitor, secrets: undefined },
      { authenticate: () => ({ actor: 'ops', role: 'admin' }) },
    );
    const answer = await handler(new Request('http://x/admin/secrets/status'));

    expect(answer.status).toBe(503);
    expect(((await answer.json()) as ErrorBody).error.code).toBe('M28_NO_STORE');
  });

  it('mounts under basePath', async () => {
    const handler = createAdminHandler(
      { store: database().store, monitor: api.monitor, secrets: api.secrets },
      { authenticate: () => ({ actor: 'ops', role: 'monitor' }), basePath: '/ops/' },
    );
    const inside = await handler(new Request('http://x/ops/admin/providers/health'));
    const outside = await handler(new Request('http://x/admin/providers/health'));
    const lookalike = await handler(new Request('http://x/opsadmin/providers/health'));

    expect([inside.status, outside.status, lookalike.status]).toEqual([200, 404, 404]);
  });

  it.each([
    ['maxBodyBytes', NaN],
    ['maxBodyBytes', 0],
    ['staleAfterMs', -1],
  ])('refuses %s = %s at construction, naming the option', (field, value) => {
    const build = () =>
      createAdminHandler(
        { store: database().store, monitor: api.monitor, secrets: api.secrets },
        { authenticate: () => null, [field]: value },
      );

    expect(build).toThrow(expect.objectContaining({ code: 'M28_VALIDATION', field }));
  });

  it('accepts application/json with parameters, in any case', async () => {
    const toggle = {
      provider_name: 'charset',
      service_type: 'payment',
      enabled: true,
      reason: 'charset',
    };
    const headers = { 'content-type': 'Application/JSON; charset=utf-8' };
    const answer = await api.call('admin', 'POST', '/admin/providers/toggle', toggle, headers);

    expect(answer.status).toBe(200);
  });
});
