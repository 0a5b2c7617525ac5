import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backends, useDatabase } from '../support/databases.js';
import {
  countRows,
  expectErrorShape,
  fingerprintOf,
  openRotation,
  RAW_KEY,
  seed,
  startAdminServer,
  type AdminServer,
  type Answer,
} from './support.js';

const TOGGLE = {
  provider_name: 'stripe',
  service_type: 'payment',
  enabled: false,
  reason: 'Emergency maintenance',
  maintenance_mode: true,
};

const fieldsOf = (answer: Answer) =>
  ((answer.body.error.fields ?? []) as { field: string }[]).map(({ field }) => field);

describe.each(backends)('createAdminHandler with hostile input on %s', (backend) => {
  const database = useDatabase(backend);
  let api: AdminServer;
  let small: AdminServer;

  beforeAll(async () => {
    api = await startAdminServer(database().store);
    small = await startAdminServer(database().store, { maxBodyBytes: 1024 });
    await seed(database().store, api.secrets);
  });
  afterAll(async () => {
    await api?.close();
    await small?.close();
  });

  /** Sends a request that must be refused, and checks that no table changed. */
  async function refused(send: () => Promise<Answer>, status: number): Promise<Answer> {
    const before = await countRows(database().store);
    const answer = await send();
    expect(answer.status).toBe(status);
    expectErrorShape(answer);
    expect(await countRows(database().store)).toEqual(before);

    return answer;
  }

  it('answers malformed JSON with 400 M28_MALFORMED_JSON', async () => {
    const answer = await refused(
      () => api.call('admin', 'POST', '/admin/providers/toggle', '{"provider_name": "stripe",'),
      400,
    );

    expect(answer.body.error.code).toBe('M28_MALFORMED_JSON');
  });

  it.each([
    ['a JSON string', '"stripe"'],
    ['a JSON array', '[]'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('answers %s with 400', async (_, body) => {
    await refused(() => api.call('admin', 'POST', '/admin/providers/toggle', body), 400);
  });

  it('answers a wrong type with 400 naming the field', async () => {
    const body = { ...TOGGLE, enabled: 'false' };
    const answer = await refused(
      () => api.call('admin', 'POST', '/admin/providers/toggle', body),
      400,
    );

    expect(answer.body.error.code).toBe('M28_VALIDATION');
    expect(fieldsOf(answer)).toEqual(['enabled']);
  });

  it('answers an unknown field with 400 naming it', async () => {
    const body = { ...TOGGLE, is_superadmin: true };
    const answer = await refused(
      () => api.call('admin', 'POST', '/admin/providers/toggle', body),
      400,
    );

    expect(fieldsOf(answer)).toEqual(['is_superadmin']);
  });

  it.each([
    ['a provider name with "/"', { ...TOGGLE, provider_name: 'stripe/payment' }, 'provider_name'],
    ['a blank reason', { ...TOGGLE, reason: '   ' }, 'reason'],
    [
      'maintenance_until without maintenance_mode',
      { ...TOGGLE, maintenance_mode: false, maintenance_until: '2999-01-01T00:00:00Z' },
      'maintenance_until',
    ],
  ])('answers %s with 400 naming the body field', async (_, body, field) => {
    const answer = await refused(
      () => api.call('admin', 'POST', '/admin/providers/toggle', body),
      400,
    );

    expect(fieldsOf(answer)).toEqual([field]);
  });

  it('answers a body over maxBodyBytes with 413', async () => {
    const body = { ...TOGGLE, reason: 'x'.repeat(2048) };
    const answer = await refused(
      () => small.call('admin', 'POST', '/admin/providers/toggle', body),
      413,
    );

    expect(answer.body.error.code).toBe('M28_BODY_TOO_LARGE');
  });

  it('answers a chunked body over maxBodyBytes with 413, without reading it all', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(512));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        // Never ends by itself: the server must answer without reading to the end.
        controller.enqueue(chunk);
        if (sent > 20_000) {
          controller.close();
        }
      },
    });
    const send = async (): Promise<Answer> => {
      const response = await fetch(`${small.origin}/admin/providers/toggle`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin', 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      const text = await response.text();

      return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
    };

    await refused(send, 413);
    expect(sent).toBeLessThan(20_000);
  });

  it('answers a 5 MB body with 413 quickly', async () => {
    const body = JSON.stringify({ ...TOGGLE, reason: 'x'.repeat(5 * 1024 * 1024) });
    const started = performance.now();
    await refused(() => api.call('admin', 'POST', '/admin/providers/toggle', body), 413);

    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['a JSON look-alike', { 'content-type': 'application/jsonp' }],
    ['a JSON sequence', { 'content-type': 'application/json-seq' }],
    ['an untyped', { 'content-type': '' }],
  ])('answers a %s body with 415', async (_, headers) => {
    const body = JSON.stringify(TOGGLE);
    const answer = await refused(
      () => api.call('admin', 'POST', '/admin/providers/toggle', body, headers),
      415,
    );

    expect(answer.body.error.code).toBe('M28_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown path with 404', async () => {
    for (const path of ['/admin/nope', '/admin/providers/health/', '/admin/secrets/rotations/x']) {
      const answer = await refused(() => api.call('admin', 'GET', path), 404);
      expect(answer.body.error.code).toBe('M28_NO_ROUTE');
    }
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const answer = await refused(() => api.call('admin', 'DELETE', '/admin/providers/health'), 405);
    expect(answer.headers.get('allow')).toBe('GET');

    const post = await refused(() => api.call('admin', 'GET', '/admin/secrets/rotate'), 405);
    expect(post.headers.get('allow')).toBe('POST');
  });

  it('answers a bad query with 400 naming the parameter', async () => {
    for (const [path, field] of [
      ['/admin/providers/events?severity=fatal', 'severity'],
      ['/admin/providers/events?since=yesterday', 'since'],
      ['/admin/providers/events?limit=0', 'limit'],
      ['/admin/providers/health?providr=stripe', 'providr'],
      ['/admin/secrets/status?scope=', 'scope'],
    ] as const) {
      const answer = await refused(() => api.call('admin', 'GET', path), 400);
      expect(fieldsOf(answer)).toEqual([field]);
    }
  });

  it('refuses a raw key as a fingerprint without echoing it', async () => {
    const id = await openRotation(api.secrets, 'sendgrid', 'api_key');
    const complete = {
      new_version: 'v9',
      fingerprint: RAW_KEY,
      affected_services: ['api'],
      downtime_seconds: 0,
    };
    const path = `/admin/secrets/rotations/${id}/complete`;
    const answer = await refused(() => api.call('admin', 'POST', path, complete), 400);

    expect(fieldsOf(answer)).toEqual(['fingerprint']);
    expect(answer.text).not.toContain(RAW_KEY);
    expect(answer.text).not.toContain(RAW_KEY.slice(0, 12));
    await api.secrets.cancelRotation(id, { reason: 'test done', actor: 'test' });
  });

  // Field names are echoed (an unknown field is named); values never are.
  it('echoes no raw key put in another field', async () => {
    const bodies: [string, unknown][] = [
      ['/admin/secrets/rotate', { scope: 'sendgrid', key_name: RAW_KEY, rotation_type: 'manual' }],
      ['/admin/secrets/rotate', { scope: RAW_KEY, key_name: 'k', rotation_type: RAW_KEY }],
      ['/admin/secrets/rollback', { scope: RAW_KEY, key_name: RAW_KEY, reason: RAW_KEY }],
    ];
    for (const [path, body] of bodies) {
      const answer = await api.call('admin', 'POST', path, body);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expectErrorShape(answer);
      expect(answer.text).not.toContain(RAW_KEY);
    }
  });

  it('answers a downtime beyond PostgreSQL integer with 400 naming downtime_seconds', async () => {
    const id = await openRotation(api.secrets, 'sendgrid', 'api_key');
    const complete = {
      new_version: 'v9',
      fingerprint: fingerprintOf('e'),
      affected_services: [],
      downtime_seconds: 2 ** 31,
    };
    const path = `/admin/secrets/rotations/${id}/complete`;
    const answer = await refused(() => api.call('admin', 'POST', path, complete), 400);

    expect(fieldsOf(answer)).toEqual(['downtime_seconds']);
    await api.secrets.cancelRotation(id, { reason: 'test done', actor: 'test' });
  });
});
