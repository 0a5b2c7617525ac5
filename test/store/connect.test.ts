import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { describe, expect, it } from 'vitest';

import {
  connectStore,
  fromDrizzle,
  isM28Error,
  isValidationError,
  translateDatabaseError,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

const CANARY = 'sk_live_CANARY_9f2c';

describe('connectStore', () => {
  it('runs on embedded PGlite when given no URL', async () => {
    const store = await connectStore();

    try {
      expect(store.driver).toBe('pglite');
      const [row] = await store.query<{ answer: number }>(sql`select 41 + 1 as answer`);
      expect(row?.answer).toBe(42);
    } finally {
      await store.close();
    }
  });

  it('wraps a Drizzle database the host already has and leaves it open on close', async () => {
    const client = new PGlite();
    const hostDb = drizzle(client);
    const store = await connectStore({ db: hostDb });

    expect(store.driver).toBe('drizzle');
    expect((await store.migrate()).applied.length).toBeGreaterThan(0);
    expect(await store.listen('m28_changes', () => undefined)).toBeUndefined();
    await Promise.all([store.close(), store.close(), fromDrizzle(hostDb).close()]);
    const rows = await hostDb.execute(sql`select count(*)::int as n from m28.schema_migrations`);
    expect(rows.rows[0]).toMatchObject({ n: expect.any(Number) });
    await client.close();
  });
});

describe.each(backends)('M28Store on %s', (backend) => {
  // One connection, so that a query after a transaction meets that transaction's session.
  const database = useDatabase(backend, 1);

  it('refuses a role outside the M28 roles before any query', async () => {
    const error = await database()
      .store.withRole('postgres' as never, async () => 1)
      .catch((e: unknown) => e);

    expect(isValidationError(error)).toBe(true);
    expect((error as { field: string }).field).toBe('role');
  });

  it('ends SET LOCAL ROLE with the transaction', async () => {
    const { store } = database();
    await store.withRole('m28_monitor', (tx) => store.query(sql`select 1`, tx));

    const [row] = await store.query<{ role: string }>(sql`select current_user::text as role`);
    expect(row?.role).not.toBe('m28_monitor');
  });

  it('keeps query parameters out of translated errors', async () => {
    const { store } = database();
    const error = await store
      .withRole('m28_superadmin', (tx) =>
        store.query(
          sql`select m28.complete_secret_rotation(gen_random_uuid(), 'v2', ${CANARY},
            array['api'], 0)`,
          tx,
        ),
      )
      .catch((e: unknown) => e);

    expect(isValidationError(error)).toBe(true);
    expect((error as { field: string }).field).toBe('fingerprint');
    const everything = JSON.stringify(error) + String(error) + String((error as Error).stack);
    const cause = (error as Error).cause as Error;
    expect(everything + cause.message + String(cause.stack)).not.toContain(CANARY);
  });
});

describe('translateDatabaseError', () => {
  it('reads the SQLSTATE under a wrapper, never its message', () => {
    const driverError = Object.assign(new Error('rotation is completed, not in_progress'), {
      code: 'M2802',
    });
    const wrapper = Object.assign(new Error(`Failed query: select 1\nparams: ${CANARY}`), {
      cause: driverError,
    });

    const translated = translateDatabaseError(wrapper);

    expect(translated.code).toBe('M28_ROTATION_NOT_OPEN');
    expect(translated.message).toBe('rotation is completed, not in_progress');
    expect(translated.message).not.toContain(CANARY);
  });

  it('names an error without a SQLSTATE by its class only', () => {
    const translated = translateDatabaseError(new TypeError(`bad ${CANARY}`));

    expect(isM28Error(translated)).toBe(true);
    expect(translated.code).toBe('M28_DATABASE');
    expect(translated.message).not.toContain(CANARY);
  });
});
