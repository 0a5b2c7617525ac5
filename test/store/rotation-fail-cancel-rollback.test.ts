import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  NoPreviousVersionError,
  RotationInProgressError,
  RotationNotOpenError,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  asRole,
  auditFor,
  completeSql,
  fp,
  rotations,
  secretState,
  seedSecret,
  start,
} from './rotation-fixtures.js';

describe.each(backends)('ending and rolling back rotations on %s', (backend) => {
  const database = useDatabase(backend);

  describe.each([
    ['fail_secret_rotation', 'failed', 'secret_rotation.fail'],
    ['cancel_secret_rotation', 'cancelled', 'secret_rotation.cancel'],
  ])('%s', (fn, status, action) => {
    const endSql = (rotationId: string) =>
      sql`select ${sql.raw(`m28.${fn}`)}(${rotationId}::uuid, 'provider down'::text,
        'carol'::text)`;

    it(`marks the rotation ${status} and leaves the current version untouched`, async () => {
      const { store } = database();
      const id = await seedSecret(store, { previous: 'v0' });
      const before = await secretState(store, id);
      const rotationId = await start(store, id);

      await asRole(store, 'm28_admin', endSql(rotationId));

      expect(await secretState(store, id)).toEqual({ ...before, status: 'active' });
      expect((await rotations(store, id))[0]).toMatchObject({
        status,
        completed_by: 'carol',
        failure_reason: 'provider down',
        new_version: null,
      });
      expect((await auditFor(store, rotationId))[1]).toMatchObject({
        actor: 'carol',
        action,
        reason: 'provider down',
        request_id: 'req-1',
        db_role: 'm28_admin',
        meta: { before: { status: 'in_progress' }, after: { status } },
      });
    });

    it('refuses a rotation that is no longer open', async () => {
      const { store } = database();
      const rotationId = await start(store, await seedSecret(store));
      await asRole(store, 'm28_admin', endSql(rotationId));

      await expect(asRole(store, 'm28_admin', endSql(rotationId))).rejects.toBeInstanceOf(
        RotationNotOpenError,
      );
      await expect(
        asRole(store, 'm28_admin', completeSql(rotationId, 'v2')),
      ).rejects.toBeInstanceOf(RotationNotOpenError);
      expect(await auditFor(store, rotationId)).toHaveLength(2);
    });
  });

  describe('rollback_secret_rotation', () => {
    const rollbackSql = (id: string) =>
      sql`select m28.rollback_secret_rotation(${id}::uuid, 'v2 breaks checkout'::text,
        'dave'::text, 'req-rb'::text) as id`;

    it('swaps current and previous and logs a completed rollback', async () => {
      const { store } = database();
      const id = await seedSecret(store, { version: 'v2', previous: 'v1' });

      const [row] = await asRole<{ id: string }>(store, 'm28_admin', rollbackSql(id));

      expect(await secretState(store, id)).toMatchObject({
        current_version: 'v1',
        current_fingerprint: fp('v1'),
        previous_version: 'v2',
        previous_fingerprint: fp('v2'),
      });
      expect(await rotations(store, id)).toEqual([
        expect.objectContaining({
          id: row!.id,
          rotation_type: 'rollback',
          status: 'completed',
          previous_version: 'v2',
          new_version: 'v1',
          new_fingerprint: fp('v1'),
          failure_reason: 'v2 breaks checkout',
        }),
      ]);
      expect(await auditFor(store, row!.id)).toEqual([
        {
          actor: 'dave',
          action: 'secret_rotation.rollback',
          entity: 'secrets_rotation_log',
          reason: 'v2 breaks checkout',
          request_id: 'req-rb',
          db_role: 'm28_admin',
          meta: expect.objectContaining({
            before: { version: 'v2', fingerprint: fp('v2') },
            after: { version: 'v1', fingerprint: fp('v1') },
          }),
        },
      ]);
    });

    it('refuses a secret without a previous version', async () => {
      const { store } = database();
      const id = await seedSecret(store);

      await expect(asRole(store, 'm28_admin', rollbackSql(id))).rejects.toBeInstanceOf(
        NoPreviousVersionError,
      );
      expect(await rotations(store, id)).toEqual([]);
    });

    it('refuses while a rotation is open', async () => {
      const { store } = database();
      const id = await seedSecret(store, { version: 'v2', previous: 'v1' });
      await start(store, id);

      await expect(asRole(store, 'm28_admin', rollbackSql(id))).rejects.toBeInstanceOf(
        RotationInProgressError,
      );
      expect((await secretState(store, id)).current_version).toBe('v2');
    });
  });
});
