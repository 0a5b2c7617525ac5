/**
 * The admin API in Express and in Hono, on an embedded PGlite: `createAdminHandler(ops,
 * { authenticate })` is one fetch handler, mounted under `/ops` in both. Real requests go to
 * both servers on loopback; each answer is checked, and the run exits non-zero if one is off.
 *
 *   node --import tsx examples/http-frameworks/main.ts
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import {
  connectPglite,
  createAdminHandler,
  createOps,
  isProviderDisabledError,
  type AdminPrincipal,
} from '../../src/index.js';
import { startExpress, startHono, type Running } from './servers.js';

const watchdog = setTimeout(() => {
  console.error('http-frameworks: FAILED, still running after 30 s');
  process.exit(1);
}, 30_000);
watchdog.unref();

// Tokens → principals. In a real host this is your session store or a JWT verification;
// anything that is not a known bearer token is answered 401 by returning null.
const tokens = new Map<string, AdminPrincipal>([
  [randomUUID(), { actor: 'mo@example.com', role: 'monitor' }],
  [randomUUID(), { actor: 'ada@example.com', role: 'admin' }],
  [randomUUID(), { actor: 'sam@example.com', role: 'superadmin' }],
]);
const tokenOf = (role: string) => [...tokens].find(([, p]) => p.role === role)![0];
const authenticate = (request: Request): AdminPrincipal | null => {
  const match = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '');

  return (match && tokens.get(match[1]!)) ?? null;
};

const store = await connectPglite();
const ops = createOps({
  store,
  providers: { 'stripe/payment': {}, 'twilio/sms': {} },
});
const servers: Running[] = [];
let failed = false;

try {
  await ops.start();
  await ops.secrets!.register({ scope: 'twilio', keyName: 'auth_token', keyType: 'token' });
  const sendSms = ops.wrap('twilio', 'sms', async (to: string) => ({ sid: 'SM1', to }));
  await sendSms('+15550100');
  // The health rows the API reads are written every flushIntervalMs (5 s): write them now.
  await ops.sink!.flush();

  const handler = createAdminHandler(ops, { authenticate, basePath: '/ops' });
  servers.push(await startExpress(handler), await startHono(handler));

  for (const server of servers) {
    const call = async (
      method: 'GET' | 'POST',
      path: string,
      role: string | undefined,
      body?: unknown,
    ) => {
      const headers: Record<string, string> = {};
      if (role) {
        headers.authorization = `Bearer ${role === 'stranger' ? randomUUID() : tokenOf(role)}`;
      }
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(server.base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as Record<string, unknown>;
      const error = (json.error as { code?: string } | undefined)?.code;
      const what = `${method} ${path}`.padEnd(34);
      console.log(
        `  ${server.name.padEnd(8)}${(role ?? 'no token').padEnd(12)}${what}${response.status}` +
          `  ${error ?? JSON.stringify(json.summary ?? json.status ?? '')}`,
      );

      return { status: response.status, json };
    };

    const enabled = server.name === 'hono'; // Express disables twilio, Hono enables it again.
    const health = await call('GET', '/admin/providers/health', 'monitor');
    assert.equal(health.status, 200, `${server.name}: health as monitor`);
    assert.ok(Array.isArray(health.json.providers), `${server.name}: health lists providers`);

    const secrets = await call('GET', '/admin/secrets/status', 'monitor');
    assert.equal(secrets.status, 403, `${server.name}: secrets status as monitor`);

    const allowed = await call('GET', '/admin/secrets/status', 'superadmin');
    assert.equal(allowed.status, 200, `${server.name}: secrets status as superadmin`);

    const toggle = await call('POST', '/admin/providers/toggle', 'admin', {
      provider_name: 'twilio',
      service_type: 'sms',
      enabled,
      reason: enabled ? 'Carrier incident resolved' : 'Emergency: carrier incident',
      request_id: `INC-${server.name}`,
    });
    assert.equal(toggle.status, 200, `${server.name}: toggle as admin`);
    assert.equal(toggle.json.status, enabled ? 'healthy' : 'disabled');

    // The toggle is live for the calls in this process at once.
    const sms = await sendSms('+15550100').then(
      () => 'sent',
      (error: unknown) => (isProviderDisabledError(error) ? 'refused' : String(error)),
    );
    console.log(`  ${server.name.padEnd(8)}twilio/sms call after the toggle: ${sms}`);
    assert.equal(sms, enabled ? 'sent' : 'refused', `${server.name}: call after the toggle`);

    const anonymous = await call('GET', '/admin/providers/health', undefined);
    assert.equal(anonymous.status, 401, `${server.name}: no token`);
    const stranger = await call('GET', '/admin/providers/health', 'stranger');
    assert.equal(stranger.status, 401, `${server.name}: unknown token`);

    const host = await fetch(server.base.replace(/\/ops$/, '/'));
    assert.equal(host.status, 200, `${server.name}: the host's own route still answers`);
  }
  console.log('http-frameworks: OK, every answer as expected on Express and Hono');
} catch (error) {
  failed = true;
  console.error('http-frameworks: FAILED', error);
} finally {
  await Promise.all(servers.map((server) => server.close()));
  await ops.close();
  await store.close();
}
process.exitCode = failed ? 1 : 0;
