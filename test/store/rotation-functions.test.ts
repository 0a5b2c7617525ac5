import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  NotFoundError,
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  SecretRetiredError,
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
  startSql,
} from './rotation-fixtures.js';

describe.each(backends)('rotation functions on %s', (backend) => {
  const database = useDatabase(backend);

  describe('start_secret_rotation', () => {
    it('opens an in_progress rotation and marks the secret rotating', async () => {
      const { store } = database();
      const id = await seedSecret(store);

      const rotationId = await start(store, id);

      expect(await rotations(store, id)).toEqual([
        expect.objectContaining({ id: rotationId, status: 'in_progress', initiated_by: 'alice' }),
      ]);
      expect((await rotations(store, id))[0]).toMatchObject({
        rotation_type: 'manual',
        previous_version: 'v1',
        previous_fingerprint: fp('v1'),
      });
      expect((await secretState(store, id)).status).toBe('rotating');
    });

    it('refuses a non-forced scheduled or manual start on a secret that is not due', async () => {
      const { store } = database();
      const id = await seedSecret(store);

      for (const type of ['scheduled', 'manual']) {
        await expect(asRole(store, 'm28_admin', startSql(id, type, false))).rejects.toBeInstanceOf(
          RotationNotDueError,
        );
      }
      expect(await rotations(store, id)).toEqual([]);
      expect((await secretState(store, id)).status).toBe('active');
    });

    it('allows an emergency start, or a forced one, on a secret that is not due', async () => {
      const { store } = database();
      const [first, second] = [await seedSecret(store), await seedSecret(store)];

      await asRole(store, 'm28_admin', startSql(first, 'emergency', false));
      await asRole(store, 'm28_admin', startSql(second, 'scheduled', true));

      expect((await rotations(store, first))[0]).toMatchObject({ rotation_type: 'emergency' });
      expect((await rotations(store, second))[0]).toMatchObject({ rotation_type: 'scheduled' });
    });

    it('allows a non-forced scheduled start once the secret is due', async () => {
      const { store } = database();
      const id = await seedSecret(store, { due: true });

      await asRole(store, 'm28_admin', startSql(id, 'scheduled', false));

      expect((await secretState(store, id)).status).toBe('rotating');
    });

    it('refuses a second start while a rotation is open', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      await start(store, id);

      await expect(start(store, id)).rejects.toBeInstanceOf(RotationInProgressError);
      expect(await rotations(store, id)).toHaveLength(1);
    });

    it('refuses a retired secret', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      await store.query(sql`update m28.secrets_config set status = 'retired' where id = ${id}`);

      await expect(start(store, id)).rejects.toBeInstanceOf(SecretRetiredError);
      expect(await rotations(store, id)).toEqual([]);
    });

    it('writes one audit row with before and after under the SET ROLE role', async () => {
      const { store } = database();
      const id = await seedSecret(store);

      const rotationId = await start(store, id);

      expect(await auditFor(store, rotationId)).toEqual([
        {
          actor: 'alice',
          action: 'secret_rotation.start',
          entity: 'secrets_rotation_log',
          reason: null,
          request_id: 'req-1',
          db_role: 'm28_admin',
          meta: expect.objectContaining({
            secret_config_id: id,
            before: { status: 'active' },
            after: { status: 'rotating' },
          }),
        },
      ]);
    });

    it('writes its audit row in the caller transaction, which rolls back with it', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      const sentinel = new Error('roll back');
      let rotationId = '';

      const outcome = store.db.transaction(async (tx) => {
        await tx.execute(sql`set local role m28_admin`);
        const [row] = await store.query<{ id: string }>(startSql(id), tx);
        rotationId = row!.id;
        const inside = await store.query(
          sql`select 1 from m28.audit_log where entity_id = ${rotationId}`,
          tx,
        );
        expect(inside).toHaveLength(1);
        throw sentinel;
      });

      await expect(outcome).rejects.toBe(sentinel);
      expect(await auditFor(store, rotationId)).toEqual([]);
      expect(await rotations(store, id)).toEqual([]);
      expect((await secretState(store, id)).status).toBe('active');
    });
  });

  describe('complete_secret_rotation', () => {
    it('moves the new version in and keeps the old one as previous', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      const rotationId = await start(store, id);

      await asRole(store, 'm28_admin', completeSql(rotationId, 'v2'));

      expect(await secretState(store, id)).toMatchObject({
        status: 'active',
        current_version: 'v2',
        current_fingerprint: fp('v2'),
        previous_version: 'v1',
        previous_fingerprint: fp('v1'),
      });
      expect((await rotations(store, id))[0]).toMatchObject({
        status: 'completed',
        completed_by: 'bob',
        new_version: 'v2',
        new_fingerprint: fp('v2'),
        affected_services: ['api', 'webhooks'],
        downtime_seconds: 3,
      });
    });

    it('advances last_rotated_at and next_rotation_at by the schedule', async () => {
      const { store } = database();
      const id = await seedSecret(store, { schedule: 'weekly', rotatedDaysAgo: 100 });
      const before = await secretState(store, id);

      await asRole(store, 'm28_admin', completeSql(await start(store, id), 'v2'));

      const after = await secretState(store, id);
      expect(after.last_rotated).toBeGreaterThan(before.last_rotated + 99 * 86_400);
      expect(after.next_rotation! - after.last_rotated).toBe(7 * 86_400);
      expect(after.next_matches_schedule).toBe(true);
    });

    it('refuses a rotation that is no longer open', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      const rotationId = await start(store, id);
      await asRole(store, 'm28_admin', completeSql(rotationId, 'v2'));

      await expect(
        asRole(store, 'm28_admin', completeSql(rotationId, 'v3')),
      ).rejects.toBeInstanceOf(RotationNotOpenError);
      expect((await secretState(store, id)).current_version).toBe('v2');
      expect(await auditFor(store, rotationId)).toHaveLength(2);
    });

    it('writes one audit row with the versions before and after', async () => {
      const { store } = database();
      const id = await seedSecret(store);
      const rotationId = await start(store, id, 'm28_superadmin');

      await asRole(store, 'm28_superadmin', completeSql(rotationId, 'v2'));

      const rows = await auditFor(store, rotationId);
      expect(rows.map((r) => r.action)).toEqual([
        'secret_rotation.start',
        'secret_rotation.complete',
      ]);
      expect(rows[1]).toMatchObject({
        actor: 'bob',
        entity: 'secrets_rotation_log',
        request_id: 'req-1',
        db_role: 'm28_superadmin',
        meta: {
          before: { status: 'in_progress', version: 'v1', fingerprint: fp('v1') },
          after: { status: 'completed', version: 'v2', fingerprint: fp('v2') },
        },
      });
    });
  });

  describe('rotation functions on a restricted secret', () => {
    it('answers NotFoundError to m28_admin and lets m28_superadmin rotate', async () => {
      const { store } = database();
      const id = await seedSecret(store, { keyType: 'secret_key', previous: 'v0' });

      await expect(start(store, id, 'm28_admin')).rejects.toBeInstanceOf(NotFoundError);
      const rotationId = await start(store, id, 'm28_superadmin');
      await expect(
        asRole(store, 'm28_admin', completeSql(rotationId, 'v2')),
      ).rejects.toBeInstanceOf(NotFoundError);
      await asRole(store, 'm28_superadmin', completeSql(rotationId, 'v2'));

      expect((await secretState(store, id)).current_version).toBe('v2');
      expect((await auditFor(store, rotationId)).map((r) => r.db_role)).toEqual([
        'm28_superadmin',
        'm28_superadmin',
      ]);
    });
  });
});
