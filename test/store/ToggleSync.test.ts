import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';

import {
  CHANGES_CHANNEL,
  fromDrizzle,
  type M28Database,
  type M28Ops,
  type M28Role,
  type M28Store,
  type ProviderAccess,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { sleep, uniqueProvider, useOps } from './sink-support.js';

function toggleInSql(store: M28Store, provider: string, service: string, enabled: boolean) {
  return store.withRole('m28_admin', (tx) =>
    store.query(
      sql`select m28.toggle_provider(${provider}, ${service}, ${enabled},
        'toggle sync test', 'oncall@example.com')`,
      tx,
    ),
  );
}

/**
 * Makes `change`, then measures the milliseconds from its commit until `ops` blocks or lets
 * through calls to the provider.
 */
async function msUntilAccess(
  ops: M28Ops,
  provider: string,
  kind: ProviderAccess['kind'],
  change: () => Promise<unknown>,
  timeout = 1000,
): Promise<number> {
  await change();
  const started = performance.now();
  await vi.waitFor(() => expect(ops.breakers.get(provider, 'api')?.access.kind).toBe(kind), {
    timeout,
    interval: 5,
  });

  return performance.now() - started;
}

describe.each(backends)('ToggleSync on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it('applies a toggle made in plain SQL within a second, over LISTEN', async () => {
    const { store } = database();
    const provider = uniqueProvider('listen');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, pollIntervalMs: 60_000 });
    await ops.start();

    const off = await msUntilAccess(ops, provider, 'disabled', () =>
      toggleInSql(store, provider, 'api', false),
    );
    const on = await msUntilAccess(ops, provider, 'enabled', () =>
      toggleInSql(store, provider, 'api', true),
    );

    expect(off).toBeLessThan(1000);
    expect(on).toBeLessThan(1000);
  });

  it('ignores notifications that are not its own', async () => {
    const { store } = database();
    const provider = uniqueProvider('noise');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, pollIntervalMs: 60_000 });
    const errors: Error[] = [];
    ops.on('error', (error) => errors.push(error));
    await ops.start();

    for (const payload of ['null', '42', 'not json', '{"kind":"provider"}', '[]']) {
      await store.query(sql`select pg_notify(${CHANGES_CHANNEL}, ${payload})`);
    }
    const ms = await msUntilAccess(ops, provider, 'disabled', () =>
      toggleInSql(store, provider, 'api', false),
    );

    expect(ms).toBeLessThan(1000);
    expect(errors).toEqual([]);
  });

  it('applies a breaker reset made in plain SQL', async () => {
    const { store } = database();
    const provider = uniqueProvider('reset');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      pollIntervalMs: 60_000,
    });
    await ops.start();
    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);
    expect(ops.breakers.get(provider, 'api')?.state).toBe('open');

    await store.withRole('m28_admin', (tx) =>
      store.query(
        sql`select m28.reset_circuit_breaker(${provider}, 'api', 'provider recovered',
          'oncall@example.com')`,
        tx,
      ),
    );

    await vi.waitFor(() => expect(ops.breakers.get(provider, 'api')?.state).toBe('closed'), {
      timeout: 1000,
    });
  });

  it('does not undo a toggle with a poll that read the row before it', async () => {
    const { store } = database();
    const provider = uniqueProvider('stale');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, pollIntervalMs: 100 });
    await ops.start();
    const toggle = (enabled: boolean) =>
      ops.toggle({ provider, service: 'api', enabled, reason: 'stale poll', actor: 'oncall' });
    await toggle(true);
    const withRole = store.withRole.bind(store);
    let read: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The next transaction is the poll's: it reads now, and answers once released.
    vi.spyOn(store, 'withRole').mockImplementationOnce(
      (role: M28Role, work: (tx: M28Database) => Promise<unknown>) => {
        read = withRole(role, work);

        return read.then(async (rows) => {
          await gate;

          return rows as never;
        });
      },
    );
    await vi.waitFor(() => expect(read).toBeDefined());
    await read;

    await toggle(false);
    const flips: boolean[] = [];
    ops.on('provider:toggle', (event) => flips.push(event.enabled));
    release();
    await sleep(50);

    expect(flips).toEqual([]);
    expect(ops.breakers.get(provider, 'api')?.access.kind).toBe('disabled');
  });

  it('catches a toggle by its next poll when the store cannot LISTEN', async () => {
    const { store } = database();
    const provider = uniqueProvider('poll');
    const hostStore = fromDrizzle(store.db);
    const ops = openOps({
      store: hostStore,
      providers: { [`${provider}/api`]: {} },
      pollIntervalMs: 200,
    });
    await ops.start();

    const ms = await msUntilAccess(ops, provider, 'disabled', () =>
      toggleInSql(store, provider, 'api', false),
    );

    expect(await hostStore.listen(CHANGES_CHANNEL, () => undefined)).toBeUndefined();
    expect(ms).toBeLessThan(600);
  });
});

describe.runIf(process.env.DATABASE_URL)(
  'ToggleSync across instances on postgres (needs DATABASE_URL: two connections)',
  () => {
    const database = useDatabase('postgres');
    const openOps = useOps();

    /** Two facades on two pools of one database, and a third connection for plain SQL. */
    async function twoInstances(provider: string, pollIntervalMs = 60_000) {
      const { store, connectAnother } = database();
      const other = await connectAnother!(2);
      const psql = await connectAnother!(1);
      const providers = { [`${provider}/api`]: {} };
      const a = openOps({ store, providers, pollIntervalMs: 60_000 });
      const b = openOps({ store: other, providers, pollIntervalMs });
      await Promise.all([a.start(), b.start()]);

      return { a, b, other, psql };
    }

    it('blocks calls on instance B within a second of a toggle through instance A', async () => {
      const provider = uniqueProvider('multi_ops');
      const { a, b } = await twoInstances(provider);
      const toggle = (enabled: boolean) => () =>
        a.toggle({ provider, service: 'api', enabled, reason: 'incident', actor: 'oncall' });

      const off = await msUntilAccess(b, provider, 'disabled', toggle(false));
      await expect(b.fire(provider, 'api', () => 'ok')).rejects.toMatchObject({
        code: 'M28_PROVIDER_DISABLED',
      });
      const on = await msUntilAccess(b, provider, 'enabled', toggle(true));

      expect(off).toBeLessThan(1000);
      expect(on).toBeLessThan(1000);
      expect(await b.fire(provider, 'api', () => 'ok')).toBe('ok');
    });

    it('blocks calls on instance B within a second of a toggle in plain SQL', async () => {
      const provider = uniqueProvider('multi_sql');
      const { a, b, psql } = await twoInstances(provider);

      const ms = await msUntilAccess(b, provider, 'disabled', () =>
        toggleInSql(psql, provider, 'api', false),
      );

      expect(ms).toBeLessThan(1000);
      // A hears the same NOTIFY on its own connection, not necessarily before B.
      await expect
        .poll(() => a.breakers.get(provider, 'api')?.access.kind, { timeout: 1000 })
        .toBe('disabled');
    });

    it('catches a toggle by polling when instance B cannot LISTEN', async () => {
      const provider = uniqueProvider('multi_poll');
      const { store, connectAnother } = database();
      const hostPool = await connectAnother!(2);
      const providers = { [`${provider}/api`]: {} };
      const a = openOps({ store, providers });
      const b = openOps({ store: fromDrizzle(hostPool.db), providers, pollIntervalMs: 200 });
      await Promise.all([a.start(), b.start()]);

      const ms = await msUntilAccess(b, provider, 'disabled', () =>
        a.toggle({ provider, service: 'api', enabled: false, reason: 'incident', actor: 'oncall' }),
      );

      expect(ms).toBeLessThan(600);
    });
  },
);
