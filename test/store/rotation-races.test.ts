import { sql, type SQL } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import type { M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  auditFor,
  completeSql,
  fp,
  rotations,
  secretState,
  seedSecret,
  start,
  startSql,
} from './rotation-fixtures.js';

/** Resolves for everyone once `count` callers have arrived. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => {};
  const everyone = new Promise<void>((resolve) => {
    release = resolve;
  });

  return async () => {
    arrived += 1;
    if (arrived === count) {
      release();
    }
    await everyone;
  };
}

/**
 * Runs each query in its own m28_admin transaction, spreading them over `stores`. With
 * `overlap`, every transaction is open before any query runs: PostgreSQL only, since PGlite
 * runs one transaction at a time.
 */
function race(stores: M28Store[], queries: SQL[], overlap: boolean) {
  const arrive = overlap ? barrier(queries.length) : async () => {};

  return Promise.allSettled(
    queries.map((query, i) => {
      const store = stores[i % stores.length]!;

      return store.withRole('m28_admin', async (tx) => {
        await store.query(sql`select 1`, tx);
        await arrive();

        return store.query<{ id?: string }>(query, tx);
      });
    }),
  );
}

function rejectionCodes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((r) =>
    r.status === 'rejected' ? [String((r.reason as { code?: unknown }).code)] : [],
  );
}

describe.each(backends)('rotation races on %s', (backend) => {
  const database = useDatabase(backend, 25);
  const overlap = backend === 'postgres';

  describe('start_secret_rotation', () => {
    it('opens exactly one rotation when 20 calls race on one secret', async () => {
      const { store } = database();
      const id = await seedSecret(store);

      const results = await race(
        [store],
        Array.from({ length: 20 }, () => startSql(id, 'emergency', false)),
        overlap,
      );

      const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value[0]?.id] : []));
      expect(winners).toHaveLength(1);
      expect(rejectionCodes(results)).toEqual(Array(19).fill('M28_ROTATION_IN_PROGRESS'));
      expect(await rotations(store, id)).toEqual([
        expect.objectContaining({ id: winners[0], status: 'in_progress' }),
      ]);
      expect((await auditFor(store, winners[0]!)).map((a) => a.action)).toEqual([
        'secret_rotation.start',
      ]);
      const [starts] = await store.query<{ n: number }>(sql`
        select count(*)::int as n from m28.audit_log
        where action = 'secret_rotation.start' and meta->>'secret_config_id' = ${id}`);
      expect(starts?.n).toBe(1);
      expect((await secretState(store, id)).status).toBe('rotating');
    });
  });

  describe('complete_secret_rotation', () => {
    it('completes a rotation exactly once when 50 calls race on it', async () => {
      const db = database();
      const { store } = db;
      const stores = db.connectAnother ? [store, await db.connectAnother(25)] : [store];
      const id = await seedSecret(store);
      const rotationId = await start(store, id);

      const results = await race(
        stores,
        Array.from({ length: 50 }, (_, i) => completeSql(rotationId, `v2-${i}`)),
        overlap,
      );

      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(rejectionCodes(results)).toEqual(Array(49).fill('M28_ROTATION_NOT_OPEN'));
      expect(await rotations(store, id)).toEqual([
        expect.objectContaining({
          id: rotationId,
          status: 'completed',
          new_version: `v2-${winner}`,
          new_fingerprint: fp(`v2-${winner}`),
        }),
      ]);
      expect(await secretState(store, id)).toMatchObject({
        status: 'active',
        current_version: `v2-${winner}`,
        previous_version: 'v1',
      });
      expect((await auditFor(store, rotationId)).map((a) => a.action)).toEqual([
        'secret_rotation.start',
        'secret_rotation.complete',
      ]);
    });
  });
});
