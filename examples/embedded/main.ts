/**
 * The embedded demo: `npm run demo`. It needs no database server: the M28 tables live in an
 * in-memory PGlite. Three fake providers on loopback start failing partway through; watch
 * the breakers trip and recover, the health table change, and the events land in the tables.
 */
import { sql } from 'drizzle-orm';

import { connectPglite, createOps, type ProviderHealth } from '../../src/index.js';
import { serveAdminApi } from './adminApi.js';
import { callProvider, startFakeProvider } from './fakeProviders.js';
import { secretsTour } from './secretsTour.js';

const started = Date.now();
const clock = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(4)}s`;
const say = (line: string) => process.stdout.write(`${clock()}  ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const [stripe, twilio, fcm] = await Promise.all([
  startFakeProvider('stripe'),
  startFakeProvider('twilio'),
  startFakeProvider('fcm'),
]);

say('starting the embedded database (PGlite) and migrating the m28 schema');
const store = await connectPglite();
const ops = createOps({
  store,
  intervalMs: 1000,
  flushIntervalMs: 500,
  defaults: { failureThreshold: 5, resetTimeoutMs: 3000, timeoutMs: 800 },
  providers: {
    'stripe/payment': { check: () => callProvider(stripe, '/v1/balance') },
    'twilio/sms': { check: () => callProvider(twilio, '/health') },
    'fcm/push': { check: () => callProvider(fcm, '/health') },
  },
});

ops.on('breaker:open', (e) =>
  say(`BREAKER OPEN   ${e.provider}/${e.service} after ${e.failures} failures`),
);
ops.on('breaker:half_open', (e) => say(`breaker half-open ${e.provider}/${e.service}`));
ops.on('breaker:close', (e) => say(`breaker closed ${e.provider}/${e.service} (${e.reason})`));
ops.on('provider:status', (e) => say(`status ${e.provider}/${e.service}: ${e.from} -> ${e.to}`));
ops.on('provider:toggle', (e) =>
  say(
    `toggle ${e.provider}/${e.service}: enabled=${e.enabled} maintenance=${e.maintenanceMode}` +
      (e.actor ? ` by ${e.actor}` : ''),
  ),
);
ops.on('error', (error) => say(`background error: ${error.message}`));
await ops.start();

await secretsTour(ops, say);
const api = await serveAdminApi(ops);
say(`admin API on ${api.base} while the demo runs; try, from another terminal:`);
process.stdout.write(`${api.curl.map((line) => `    ${line}`).join('\n')}\n`);

const charge = ops.wrap('stripe', 'payment', (amount: number) =>
  callProvider(stripe, `/v1/charges?amount=${amount}`),
);
const sendSms = ops.wrap('twilio', 'sms', (to: string) => callProvider(twilio, `/sms?to=${to}`));
const push = ops.wrap('fcm', 'push', (token: string) => callProvider(fcm, `/push?t=${token}`));

const tally = { ok: 0, failed: 0, refused: 0 };
let running = true;
const traffic = (async () => {
  while (running) {
    const results = await Promise.allSettled([charge(1000), sendSms('+15550100'), push('tok')]);
    for (const result of results) {
      if (result.status === 'fulfilled') {
        tally.ok += 1;
      } else if ((result.reason as { code?: string }).code?.startsWith('M28_PROVIDER_D')) {
        tally.refused += 1;
      } else if ((result.reason as { code?: string }).code === 'M28_BREAKER_OPEN') {
        tally.refused += 1;
      } else {
        tally.failed += 1;
      }
    }
    await sleep(100);
  }
})();

function printHealth(): void {
  const { providers, summary } = ops.health();
  const row = (p: ProviderHealth) =>
    `    ${`${p.provider}/${p.service_type}`.padEnd(16)}${p.status.padEnd(12)}` +
    `${p.circuit_breaker_state.padEnd(11)}${String(p.success_rate ?? '-').padEnd(8)}` +
    `${String(p.failure_count).padEnd(9)}${p.available ? 'yes' : 'no'}`;
  say(`health: ${JSON.stringify(summary)}  calls ${JSON.stringify(tally)}`);
  process.stdout.write(
    `    ${'provider'.padEnd(16)}${'status'.padEnd(12)}${'breaker'.padEnd(11)}` +
      `${'success'.padEnd(8)}${'failures'.padEnd(9)}available\n`,
  );
  process.stdout.write(`${providers.map(row).join('\n')}\n`);
}

const health = setInterval(printHealth, 2000);

await sleep(1500);
say('twilio starts answering 503');
twilio.mode = 'failing';
await sleep(2000);
say('fcm slows to 1.5 s per call (the timeout is 0.8 s)');
fcm.mode = 'slow';
await sleep(1500);
say('an operator puts stripe/payment in maintenance for 3 s');
await ops.toggle({
  provider: 'stripe',
  service: 'payment',
  enabled: false,
  maintenanceMode: true,
  until: new Date(Date.now() + 3000),
  reason: 'Planned maintenance: webhook migration',
  actor: 'ops@example.com',
});
await sleep(2500);
say('twilio and fcm recover');
twilio.mode = 'ok';
fcm.mode = 'ok';
await sleep(4000);

running = false;
await traffic;
clearInterval(health);
printHealth();

say('the admin API, as three roles (row-level security decides):');
const probes: [token: string, path: string][] = [
  ['demo-monitor', '/admin/providers/health'],
  ['demo-monitor', '/admin/secrets/status'],
  ['demo-admin', '/admin/secrets/status'],
  ['demo-superadmin', '/admin/secrets/status'],
];
for (const [token, path] of probes) {
  const response = await fetch(api.base + path, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { summary?: unknown; error?: { code: string } };
  process.stdout.write(
    `    ${token.padEnd(16)}GET ${path.padEnd(26)}${response.status} ` +
      `${JSON.stringify(body.summary ?? body.error?.code)}\n`,
  );
}
await api.close();
await ops.close();

say('what the database recorded (m28.provider_operational_events):');
const events = await store.query<{ provider_name: string; event_type: string; severity: string }>(
  sql`select provider_name, event_type, severity, summary from m28.provider_operational_events
    order by id`,
);
for (const event of events) {
  process.stdout.write(
    `    ${event.severity.padEnd(9)}${event.event_type.padEnd(20)}` +
      `${(event as unknown as { summary: string }).summary}\n`,
  );
}
const audit = await store.query<{ actor: string; action: string; reason: string | null }>(
  sql`select actor, action, reason from m28.audit_log order by id`,
);
say('audit trail (m28.audit_log):');
for (const entry of audit) {
  process.stdout.write(
    `    ${entry.actor.padEnd(18)}${entry.action.padEnd(27)}${entry.reason ?? '-'}\n`,
  );
}

await store.close();
await Promise.all([stripe.close(), twilio.close(), fcm.close()]);
say('done');
