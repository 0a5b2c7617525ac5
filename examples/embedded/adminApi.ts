import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createAdminHandler, toNodeHandler, type M28Ops } from '../../src/index.js';

const TOKENS = {
  'demo-superadmin': { actor: 'sam@example.com', role: 'superadmin' },
  'demo-admin': { actor: 'ada@example.com', role: 'admin' },
  'demo-monitor': { actor: 'mo@example.com', role: 'monitor' },
} as const;

/** Serves the admin API on a loopback port while the demo runs, with bearer tokens. */
export async function serveAdminApi(ops: M28Ops) {
  const handler = createAdminHandler(ops, {
    authenticate: (request) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';

      return TOKENS[token as keyof typeof TOKENS] ?? null;
    },
  });
  const server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = (token: string) => `-H 'authorization: Bearer ${token}'`;
  const json = "-H 'content-type: application/json'";
  const curl = [
    `curl ${auth('demo-monitor')} ${base}/admin/providers/health`,
    `curl ${auth('demo-monitor')} '${base}/admin/providers/health?provider=stripe'`,
    `curl ${auth('demo-admin')} ${json} ${base}/admin/providers/toggle -d ` +
      `'{"provider_name":"twilio","service_type":"sms","enabled":false,"reason":"Emergency"}'`,
    `curl ${auth('demo-admin')} ${json} ${base}/admin/providers/reset -d ` +
      `'{"provider_name":"twilio","service_type":"sms","reason":"fixed upstream"}'`,
    `curl ${auth('demo-monitor')} '${base}/admin/providers/events?severity=error'`,
    `curl ${auth('demo-superadmin')} ${base}/admin/secrets/status`,
    `curl ${auth('demo-admin')} '${base}/admin/secrets/status?scope=fcm'`,
    `curl ${auth('demo-superadmin')} ${json} ${base}/admin/secrets/rotate -d ` +
      `'{"scope":"twilio","key_name":"auth_token","rotation_type":"emergency",` +
      `"force_rotation":true}'`,
    `curl ${auth('demo-superadmin')} ${json} ${base}/admin/secrets/rotations/<id>/complete -d ` +
      `'{"new_version":"v2","fingerprint":"sha256:<64 hex>","affected_services":["sms"],` +
      `"downtime_seconds":0}'`,
    `curl ${auth('demo-superadmin')} ${json} ${base}/admin/secrets/rotations/<id>/cancel -d ` +
      `'{"reason":"wrong key"}'`,
    `curl ${auth('demo-superadmin')} ${json} ${base}/admin/secrets/rollback -d ` +
      `'{"scope":"stripe","key_name":"secret_key","reason":"bad key"}'`,
    `curl ${auth('demo-monitor')} ${base}/admin/secrets/rotations`,
    `curl ${auth('demo-monitor')} ${base}/metrics`,
  ];

  return {
    base,
    curl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
