/**
 * One instance of the service: its own pool (postgres.js), its own `createOps()` and its own
 * admin API, on the shared database. Run two and they behave as one system.
 */
import { connectPostgres, createOps, type M28Ops, type M28Store } from '../../src/index.js';
import { serveAdminApi } from '../embedded/adminApi.js';
import { callProvider, type FakeProvider } from '../embedded/fakeProviders.js';

/** A running instance. */
export interface Instance {
  readonly name: string;
  readonly store: M28Store;
  readonly ops: M28Ops;
  /** Its admin API, with the embedded demo's bearer tokens (`demo-monitor`, ...). */
  readonly api: string;
  close(): Promise<void>;
}

/** Connects, migrates (concurrent migrations queue on a lock), restores and starts. */
export async function startInstance(
  name: string,
  url: string,
  fakes: { stripe: FakeProvider; twilio: FakeProvider },
  say: (line: string) => void,
): Promise<Instance> {
  // Pool sizing: one connection for LISTEN, one for flushes and polls, the rest for calls.
  const store = await connectPostgres(url, { max: 5, applicationName: `m28-example-${name}` });
  const ops = createOps({
    store,
    intervalMs: 1000,
    flushIntervalMs: 500,
    defaults: { failureThreshold: 5, resetTimeoutMs: 60_000, timeoutMs: 800 },
    providers: {
      // No scheduled check on stripe: a check on the other instance would write that
      // instance's own (closed) breaker into the shared health row. See the README.
      'stripe/payment': {},
      'twilio/sms': { check: () => callProvider(fakes.twilio, '/health') },
    },
  });
  ops.on('error', (error) => say(`${name}: background error: ${error.message}`));
  await ops.start();
  const api = await serveAdminApi(ops);

  return {
    name,
    store,
    ops,
    api: api.base,
    close: async () => {
      await api.close();
      await ops.close();
      await store.close();
    },
  };
}
