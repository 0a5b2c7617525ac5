/**
 * m28-ops on the host's own Drizzle database (node-postgres): the host keeps its pool and
 * its tables, M28 adds schema `m28` beside them, and one Drizzle query joins the two.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node --import tsx examples/existing-drizzle/main.ts
 *
 * Runs in a scratch database created for the run and dropped at the end.
 */
import assert from 'node:assert/strict';

import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';

import {
  createOps,
  fromDrizzle,
  isBreakerOpenError,
  isProviderDisabledError,
} from '../../src/index.js';
import { createScratchDatabase } from './database.js';
import { createOrders, ordersByProvider, toggleAudit } from './orders.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.log(
    'existing-drizzle: SKIPPED, DATABASE_URL is not set; this example needs a PostgreSQL ' +
      'server (DATABASE_URL=postgres://user@host:5432/db).',
  );
  process.exit(0);
}

const watchdog = setTimeout(() => {
  console.error('existing-drizzle: FAILED, still running after 30 s');
  process.exit(1);
}, 30_000);
watchdog.unref();

/** Settles a call into a word: ok, refused (with the reason) or failed. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'ok',
    (error: unknown) =>
      isProviderDisabledError(error)
        ? 'refused: disabled'
        : isBreakerOpenError(error)
          ? 'refused: breaker open'
          : 'failed',
  );

const database = await createScratchDatabase(url);
console.log(`scratch database ${database.name}`);
// The host's own pool and Drizzle database, as it already has them.
const pool = new pg.Pool({ connectionString: database.url, max: 5 });
const db = drizzle(pool);
// m28-ops borrows the database: store.close() leaves the pool open.
const store = fromDrizzle(db);
const ops = createOps({
  store,
  defaults: { failureThreshold: 3, timeoutMs: 1000 },
  providers: { 'stripe/payment': {}, 'adyen/payment': {}, 'paypal/payment': {} },
});
ops.on('error', (error) => console.error(`background error: ${error.message}`));
let failed = false;

try {
  await ops.start(); // migrates schema m28 in the host's database
  console.log(`migrated; store driver '${store.driver}' (no LISTEN: toggles arrive by polling)`);

  const charge = (provider: string, fail: boolean) =>
    ops.wrap(provider, 'payment', async (amount: number) => {
      if (fail) {
        throw Object.assign(new Error(`${provider} answered 503`), { status: 503 });
      }

      return { id: `ch_${provider}_${amount}`, amount };
    });
  const stripe = charge('stripe', false);
  const adyen = charge('adyen', true);
  const paypal = charge('paypal', false);

  const stripeCalls = await Promise.all([1200, 800, 4500].map((a) => outcome(stripe(a))));
  console.log(`stripe calls: ${stripeCalls.join(', ')}`);
  assert.deepEqual(stripeCalls, ['ok', 'ok', 'ok']);

  const adyenCalls: string[] = [];
  for (const amount of [990, 2500, 100, 200]) {
    adyenCalls.push(await outcome(adyen(amount)));
  }
  console.log(`adyen calls: ${adyenCalls.join(', ')}`);
  assert.deepEqual(adyenCalls, ['failed', 'failed', 'failed', 'refused: breaker open']);

  assert.equal(await outcome(paypal(1500)), 'ok');
  const status = await ops.toggle({
    provider: 'paypal',
    service: 'payment',
    enabled: false,
    reason: 'Emergency: PayPal webhook signature failures',
    actor: 'ops@example.com',
    requestId: 'INC-42',
  });
  const afterToggle = await outcome(paypal(1500));
  console.log(`paypal disabled (status ${status}); next call: ${afterToggle}`);
  assert.equal(status, 'disabled');
  assert.equal(afterToggle, 'refused: disabled');

  // The sink writes every flushIntervalMs; flush now so the join sees this run's state.
  await ops.sink!.flush();

  await createOrders(db);
  const rows = await ordersByProvider(store);
  console.log('orders per provider, joined with m28.provider_health_status (as m28_monitor):');
  console.log(
    `    ${'provider'.padEnd(10)}${'orders'.padEnd(8)}${'amount'.padEnd(9)}` +
      `${'status'.padEnd(11)}${'breaker'.padEnd(9)}enabled`,
  );
  for (const row of rows) {
    console.log(
      `    ${row.provider.padEnd(10)}${String(row.orders).padEnd(8)}` +
        `${String(row.amount).padEnd(9)}${String(row.status).padEnd(11)}` +
        `${String(row.breaker).padEnd(9)}${String(row.enabled)}`,
    );
  }
  assert.deepEqual(
    rows.map((r) => [r.provider, r.orders, r.amount, r.status, r.breaker, r.enabled]),
    [
      ['adyen', 2, 3490, 'unhealthy', 'open', true],
      ['paypal', 1, 1500, 'disabled', 'closed', false],
      ['stripe', 3, 6500, 'healthy', 'closed', true],
    ],
  );

  const audit = await toggleAudit(store);
  for (const entry of audit) {
    console.log(`audit: ${entry.actor} ${entry.action} as ${entry.role}: ${entry.reason}`);
  }
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.actor, 'ops@example.com');

  await ops.close();
  await store.close();
  // The pool is still the host's, and still works.
  const { rows: alive } = await pool.query<{ n: number }>('select count(*)::int as n from orders');
  assert.equal(alive[0]!.n, 6);
  console.log('existing-drizzle: OK, M28 tables and the host table joined in one Drizzle query');
} catch (error) {
  failed = true;
  console.error('existing-drizzle: FAILED', error);
} finally {
  await ops.close(); // idempotent: a no-op after a successful run
  await pool.end();
  await database.drop();
}
process.exitCode = failed ? 1 : 0;
