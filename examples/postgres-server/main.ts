/**
 * The embedded demo's fake providers, on a PostgreSQL server, with two instances of the
 * service (two pools, two `createOps()`) sharing one database:
 *   1. a toggle made through instance A blocks calls on instance B within a second,
 *   2. a breaker trip A persists shows in B's admin API, which reads the database,
 *   3. a secret rotation started on A is completed on B.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node --import tsx examples/postgres-server/main.ts
 *
 * Runs in a scratch database created for the run and dropped at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import {
  fingerprint,
  isProviderDisabledError,
  isRotationInProgressError,
} from '../../src/index.js';
import { callProvider, startFakeProvider } from '../embedded/fakeProviders.js';
import { createScratchDatabase } from './database.js';
import { startInstance, type Instance } from './instance.js';
import { api, within } from './probe.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.log(
    'postgres-server: SKIPPED, DATABASE_URL is not set; this example needs a PostgreSQL ' +
      'server (DATABASE_URL=postgres://user@host:5432/db). Try `npm run demo` without one.',
  );
  process.exit(0);
}

const watchdog = setTimeout(() => {
  console.error('postgres-server: FAILED, still running after 30 s');
  process.exit(1);
}, 30_000);
watchdog.unref();

const started = Date.now();
const say = (line: string) =>
  console.log(`+${((Date.now() - started) / 1000).toFixed(1).padStart(4)}s  ${line}`);
const database = await createScratchDatabase(url);
const [stripe, twilio] = await Promise.all([
  startFakeProvider('stripe'),
  startFakeProvider('twilio'),
]);
const instances: Instance[] = [];
let failed = false;

try {
  say(`scratch database ${database.name}; starting instances A and B`);
  const [a, b] = await Promise.all(
    ['A', 'B'].map((name) => startInstance(name, database.url, { stripe, twilio }, say)),
  );
  instances.push(a!, b!);
  const A = a!;
  const B = b!;
  // The same provider calls, wrapped on each instance.
  const sendSmsA = A.ops.wrap('twilio', 'sms', () => callProvider(twilio, '/sms'));
  const sendSmsB = B.ops.wrap('twilio', 'sms', () => callProvider(twilio, '/sms'));
  const charge = A.ops.wrap('stripe', 'payment', () => callProvider(stripe, '/v1/charges'));
  const refused = (call: Promise<unknown>) =>
    call.then(
      () => false,
      (error: unknown) => isProviderDisabledError(error),
    );

  say('1. an operator disables twilio/sms through instance A');
  await sendSmsB();
  await A.ops.toggle({
    provider: 'twilio',
    service: 'sms',
    enabled: false,
    reason: 'Emergency: carrier incident',
    actor: 'ops@example.com',
    requestId: 'INC-7',
  });
  const blocked = await within(1000, 'B blocks twilio', () => refused(sendSmsB()));
  say(`   B refuses twilio/sms calls ${blocked} ms after A's toggle committed (LISTEN/NOTIFY)`);
  await api(B, 'demo-admin', '/admin/providers/toggle', {
    provider_name: 'twilio',
    service_type: 'sms',
    enabled: true,
    reason: 'Carrier incident resolved',
  });
  const unblocked = await within(
    1000,
    'A unblocks twilio',
    async () => !(await refused(sendSmsA())),
  );
  say(`   enabled again through B's admin API; A calls twilio again after ${unblocked} ms`);

  say('2. stripe fails; instance A trips its breaker');
  // B's first snapshot of stripe is written before the trip, so it does not land after it.
  await B.ops.sink!.flush();
  stripe.mode = 'failing';
  for (let i = 0; i < 5; i += 1) {
    await charge().catch(() => undefined);
  }
  assert.equal(A.ops.breakers.get('stripe', 'payment')?.snapshot().circuit.state, 'open');
  let row: Record<string, unknown> | undefined;
  const seen = await within(3000, "B's API shows the trip", async () => {
    const health = await api(B, 'demo-monitor', '/admin/providers/health?provider=stripe');
    row = (health.providers as Record<string, unknown>[])[0];

    return row?.circuit_breaker_state === 'open';
  });
  say(
    `   B's GET /admin/providers/health: stripe ${String(row?.status)}, breaker ` +
      `${String(row?.circuit_breaker_state)}, next attempt ` +
      `${String(row?.circuit_breaker_next_attempt)} (${seen} ms)`,
  );
  const own = B.ops.health({ provider: 'stripe' }).providers[0]?.circuit_breaker_state;
  say(`   B's own breaker stays ${own}: breakers are per process unless sharedTrip is on`);
  assert.equal(own, 'closed');

  stripe.mode = 'ok';
  const asked = performance.now();
  await api(B, 'demo-admin', '/admin/providers/reset', {
    provider_name: 'stripe',
    service_type: 'payment',
    reason: 'Upstream fixed',
  });
  const breakerOfA = A.ops.breakers.get('stripe', 'payment')!;
  const reset = await within(1000, 'A closes', async () => breakerOfA.state === 'closed', asked);
  await charge();
  say(`   a reset through B's admin API closed A's breaker in ${reset} ms; A charges again`);

  say('3. a secret rotation started on A, completed on B');
  await A.ops.secrets!.register({ scope: 'stripe', keyName: 'secret_key', keyType: 'secret_key' });
  const { rotationId } = await A.ops.secrets!.startRotation({
    scope: 'stripe',
    keyName: 'secret_key',
    rotationType: 'emergency',
    actor: 'ops@example.com',
    requestId: 'INC-8',
  });
  const second = await B.ops
    .secrets!.startRotation({
      scope: 'stripe',
      keyName: 'secret_key',
      rotationType: 'emergency',
      actor: 'oncall@example.com',
    })
    .then(
      () => 'started',
      (error: unknown) => (isRotationInProgressError(error) ? '409' : error),
    );
  assert.equal(second, '409', 'a second open rotation is refused on B');
  say(`   A started ${rotationId}; B may not start another (RotationInProgressError)`);
  // The new key exists only here; the database sees its fingerprint.
  const newKey = `sk_live_${randomBytes(24).toString('hex')}`;
  await B.ops.secrets!.completeRotation(rotationId, {
    version: 'v2',
    fingerprint: fingerprint(newKey),
    affectedServices: ['payment_service'],
    downtimeSeconds: 0,
    actor: 'oncall@example.com',
  });
  const [secret] = (await A.ops.secrets!.status({ scope: 'stripe' })).secrets;
  const [last] = await A.ops.secrets!.history({ scope: 'stripe', keyName: 'secret_key' });
  say(
    `   B completed it; A reads version ${secret?.current_version}, ${last?.status} ` +
      `(started by ${last?.initiated_by}, completed by ${last?.completed_by})`,
  );
  assert.equal(secret?.current_version, 'v2');
  assert.equal(last?.status, 'completed');

  say('postgres-server: OK, two instances on one PostgreSQL behaved as one system');
} catch (error) {
  failed = true;
  console.error('postgres-server: FAILED', error);
} finally {
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all([stripe.close(), twilio.close()]);
  await database.drop();
}
process.exitCode = failed ? 1 : 0;
