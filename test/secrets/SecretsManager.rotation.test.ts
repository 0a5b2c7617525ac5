import { describe, expect, it } from 'vitest';

import {
  fingerprint,
  nextRotationAfter,
  NoPreviousVersionError,
  NotFoundError,
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  SecretsManager,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { auditActions, newSecret, secretRow, uniqueScope } from './support.js';

const complete = (version: string, actor = 'bob') => ({
  version,
  fingerprint: fingerprint(`key-${version}`),
  affectedServices: ['api_service', 'webhook_handler'],
  downtimeSeconds: 3,
  actor,
});

describe.each(backends)('SecretsManager rotation workflow on %s', (backend) => {
  const database = useDatabase(backend);
  const manager = () => new SecretsManager({ store: database().store });

  /** A secret already rotated to `v1`, so that it has a current version. */
  async function rotatedSecret(secrets: SecretsManager) {
    const ref = await newSecret(secrets);
    const names = { scope: ref.scope, keyName: ref.keyName };
    const { rotationId } = await secrets.startRotation({
      ...names,
      rotationType: 'manual',
      force: true,
      actor: 'alice',
    });
    await secrets.completeRotation(rotationId, complete('v1'));

    return { id: ref.id, names };
  }

  describe('startRotation', () => {
    it('refuses a non-forced scheduled or manual start on a secret that is not due', async () => {
      const secrets = manager();
      const { id, scope, keyName } = await newSecret(secrets);

      for (const rotationType of ['scheduled', 'manual'] as const) {
        await expect(
          secrets.startRotation({ scope, keyName, rotationType, actor: 'alice' }),
        ).rejects.toBeInstanceOf(RotationNotDueError);
      }
      expect(await secrets.history({ scope, keyName })).toEqual([]);
      expect((await secretRow(database().store, id)).status).toBe('active');
    });

    it('always starts an emergency rotation, and a forced one', async () => {
      const secrets = manager();
      const one = await newSecret(secrets);
      const two = await newSecret(secrets);

      await secrets.startRotation({
        scope: one.scope,
        keyName: one.keyName,
        rotationType: 'emergency',
        actor: 'alice',
        requestId: 'INCIDENT_12345',
      });
      await secrets.startRotation({
        scope: two.scope,
        keyName: two.keyName,
        rotationType: 'scheduled',
        force: true,
        actor: 'alice',
      });

      const [first] = await secrets.history({ scope: one.scope, keyName: one.keyName });
      expect(first).toMatchObject({
        rotation_type: 'emergency',
        status: 'in_progress',
        initiated_by: 'alice',
        request_id: 'INCIDENT_12345',
      });
      expect((await secrets.history({ scope: two.scope, keyName: two.keyName }))[0]).toMatchObject({
        rotation_type: 'scheduled',
      });
      expect((await secretRow(database().store, one.id)).status).toBe('rotating');
    });

    it('refuses a second start while a rotation is open', async () => {
      const secrets = manager();
      const { scope, keyName } = await newSecret(secrets);
      const start = { scope, keyName, rotationType: 'emergency' as const, actor: 'alice' };
      await secrets.startRotation(start);

      await expect(secrets.startRotation(start)).rejects.toBeInstanceOf(RotationInProgressError);
      expect(await secrets.history({ scope, keyName })).toHaveLength(1);
    });

    it('throws NotFoundError for an unknown secret', async () => {
      const secrets = manager();

      await expect(
        secrets.startRotation({
          scope: uniqueScope('missing'),
          keyName: 'k',
          rotationType: 'emergency',
          actor: 'alice',
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('completeRotation', () => {
    it('makes the new version current, keeps the old one, and moves the dates on', async () => {
      const { store } = database();
      const secrets = manager();
      const { id, names } = await rotatedSecret(secrets);
      const { rotationId } = await secrets.startRotation({
        ...names,
        rotationType: 'emergency',
        actor: 'alice',
      });

      await secrets.completeRotation(rotationId, complete('v2'));

      const row = await secretRow(store, id);
      expect(row).toMatchObject({
        status: 'active',
        current_version: 'v2',
        current_fingerprint: fingerprint('key-v2'),
        previous_version: 'v1',
        previous_fingerprint: fingerprint('key-v1'),
      });
      const rotatedAt = new Date(row.last_rotated_at!);
      expect(Math.abs(rotatedAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(new Date(row.next_rotation_at!)).toEqual(nextRotationAfter('quarterly', rotatedAt));
      expect((await secrets.history(names))[0]).toMatchObject({
        id: rotationId,
        status: 'completed',
        completed_by: 'bob',
        new_version: 'v2',
        new_fingerprint: fingerprint('key-v2'),
        previous_version: 'v1',
        affected_services: ['api_service', 'webhook_handler'],
        downtime_seconds: 3,
      });
      expect(await auditActions(store, rotationId)).toEqual([
        'secret_rotation.start',
        'secret_rotation.complete',
      ]);
    });

    it('records service names with quotes, commas and backslashes as given', async () => {
      const secrets = manager();
      const { names } = await rotatedSecret(secrets);
      const { rotationId } = await secrets.startRotation({
        ...names,
        rotationType: 'emergency',
        actor: 'alice',
      });
      const services = ['a,b', 'quote"d', 'back\\slash', 'new\nline', '{braces}'];

      await secrets.completeRotation(rotationId, { ...complete('v2'), affectedServices: services });

      expect((await secrets.history(names))[0]!.affected_services).toEqual(services);
    });

    it('refuses to complete a rotation twice', async () => {
      const secrets = manager();
      const { names } = await rotatedSecret(secrets);
      const { rotationId } = await secrets.startRotation({
        ...names,
        rotationType: 'emergency',
        actor: 'alice',
      });
      await secrets.completeRotation(rotationId, complete('v2'));

      await expect(secrets.completeRotation(rotationId, complete('v3'))).rejects.toBeInstanceOf(
        RotationNotOpenError,
      );
      expect((await secrets.history(names))[0]).toMatchObject({ new_version: 'v2' });
    });
  });

  describe('failRotation and cancelRotation', () => {
    it.each(['fail', 'cancel'] as const)('%s leaves the current version in place', async (kind) => {
      const { store } = database();
      const secrets = manager();
      const { id, names } = await rotatedSecret(secrets);
      const before = await secretRow(store, id);
      const { rotationId } = await secrets.startRotation({
        ...names,
        rotationType: 'emergency',
        actor: 'alice',
      });

      const end = { reason: 'provider refused the new key', actor: 'carol' };
      await (kind === 'fail'
        ? secrets.failRotation(rotationId, end)
        : secrets.cancelRotation(rotationId, end));

      expect(await secretRow(store, id)).toEqual(before);
      expect((await secrets.history(names))[0]).toMatchObject({
        id: rotationId,
        status: kind === 'fail' ? 'failed' : 'cancelled',
        failure_reason: 'provider refused the new key',
        completed_by: 'carol',
        new_version: null,
      });
      await expect(secrets.cancelRotation(rotationId, end)).rejects.toBeInstanceOf(
        RotationNotOpenError,
      );
    });
  });

  describe('rollback', () => {
    it('makes the previous version current again, logged as a rollback', async () => {
      const { store } = database();
      const secrets = manager();
      const { id, names } = await rotatedSecret(secrets);
      const { rotationId } = await secrets.startRotation({
        ...names,
        rotationType: 'emergency',
        actor: 'alice',
      });
      await secrets.completeRotation(rotationId, complete('v2'));

      const rollback = await secrets.rollback({ ...names, reason: 'v2 broke', actor: 'dave' });

      expect(await secretRow(store, id)).toMatchObject({
        current_version: 'v1',
        current_fingerprint: fingerprint('key-v1'),
        previous_version: 'v2',
        previous_fingerprint: fingerprint('key-v2'),
      });
      expect((await secrets.history(names))[0]).toMatchObject({
        id: rollback.rotationId,
        rotation_type: 'rollback',
        status: 'completed',
        initiated_by: 'dave',
        new_version: 'v1',
        previous_version: 'v2',
        failure_reason: 'v2 broke',
      });
      await secrets.rollback({ ...names, reason: 'undo', actor: 'dave' });
      expect((await secretRow(store, id)).current_version).toBe('v2');
    });

    it('refuses a secret with no previous version', async () => {
      const secrets = manager();
      const { names } = await rotatedSecret(secrets);

      await expect(
        secrets.rollback({ ...names, reason: 'oops', actor: 'dave' }),
      ).rejects.toBeInstanceOf(NoPreviousVersionError);
    });
  });

  describe('history', () => {
    it('lists rotations newest first with ISO times', async () => {
      const secrets = manager();
      const { names } = await rotatedSecret(secrets);
      const start = { ...names, rotationType: 'emergency' as const, actor: 'alice' };
      const failed = await secrets.startRotation(start);
      await secrets.failRotation(failed.rotationId, { reason: 'r', actor: 'a' });
      const cancelled = await secrets.startRotation(start);
      await secrets.cancelRotation(cancelled.rotationId, { reason: 'r', actor: 'a' });

      const history = await secrets.history(names);

      expect(history.map((entry) => entry.status)).toEqual(['cancelled', 'failed', 'completed']);
      expect(history[0]!.id).toBe(cancelled.rotationId);
      const times = history.map((entry) => String(entry.initiated_at));
      expect(times.every((t) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(t))).toBe(true);
      expect([...times].sort().reverse()).toEqual(times);
    });
  });
});
