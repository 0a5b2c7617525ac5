import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { nextRotationAfter, SecretsManager, type KeyType } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  auditActions,
  DAY_MS,
  newSecret,
  recordEvents,
  SECRETS_EVENTS,
  setNextRotation,
  uniqueScope,
} from './support.js';

/** The spec's "Rotation Schedules (NIST-Aligned)" table, and certificate as the SQL has it. */
const DEFAULTS: [KeyType, string, string][] = [
  ['api_key', 'quarterly', 'confidential'],
  ['secret_key', 'quarterly', 'restricted'],
  ['private_key', 'annual', 'restricted'],
  ['certificate', 'annual', 'public'],
  ['token', 'monthly', 'restricted'],
  ['password', 'quarterly', 'restricted'],
];

const STATUS_FIELDS = [
  'scope',
  'key_name',
  'key_type',
  'rotation_schedule',
  'status',
  'last_rotated_at',
  'next_rotation_at',
  'data_classification',
  'rotation_due',
  'rotation_status',
];

describe.each(backends)('SecretsManager on %s', (backend) => {
  const database = useDatabase(backend);
  const manager = () => new SecretsManager({ store: database().store });

  async function rowText(id: string): Promise<string> {
    const [row] = await database().store.query<{ t: string }>(
      sql`select t::text as t from m28.secrets_config t where id = ${id}::uuid`,
    );

    return row!.t;
  }

  async function auditCount(): Promise<number> {
    const [row] = await database().store.query<{ n: number }>(
      sql`select count(*)::int as n from m28.audit_log`,
    );

    return row!.n;
  }

  describe('register', () => {
    it.each(DEFAULTS)(
      'gives a %s the schedule %s and the classification %s',
      async (keyType, schedule, classification) => {
        const secrets = manager();
        const before = Date.now();
        const { id, scope } = await newSecret(secrets, { keyType });

        const [secret] = (await secrets.status({ scope })).secrets;
        expect(secret).toMatchObject({
          key_type: keyType,
          rotation_schedule: schedule,
          data_classification: classification,
          status: 'active',
          last_rotated_at: null,
        });
        const next = new Date(secret!.next_rotation_at!).getTime();
        const lower = nextRotationAfter(schedule as 'annual', new Date(before - 60_000))!;
        const upper = nextRotationAfter(schedule as 'annual', new Date(Date.now() + 60_000))!;
        expect(next).toBeGreaterThanOrEqual(lower.getTime());
        expect(next).toBeLessThanOrEqual(upper.getTime());
        expect(await auditActions(database().store, id)).toEqual(['secret.register']);
      },
    );

    it('keeps an explicit schedule and classification', async () => {
      const secrets = manager();
      const { scope } = await newSecret(secrets, {
        keyType: 'secret_key',
        rotationSchedule: 'weekly',
        dataClassification: 'internal',
      });

      expect((await secrets.status({ scope })).secrets[0]).toMatchObject({
        rotation_schedule: 'weekly',
        data_classification: 'internal',
      });
    });

    it('gives a manual secret no next rotation date', async () => {
      const secrets = manager();
      const { scope } = await newSecret(secrets, { rotationSchedule: 'manual' });

      expect((await secrets.status({ scope })).secrets[0]).toMatchObject({
        next_rotation_at: null,
        rotation_due: false,
        rotation_status: 'OK',
      });
    });

    it('returns created:false and changes nothing when the secret exists', async () => {
      const secrets = manager();
      const events = recordEvents(secrets, SECRETS_EVENTS);
      const input = { scope: uniqueScope(), keyName: 'k', keyType: 'api_key' as const };
      const first = await secrets.register(input);
      const row = await rowText(first.id);
      const audits = await auditCount();

      const second = await secrets.register({
        ...input,
        keyType: 'password',
        rotationSchedule: 'daily',
        dataClassification: 'public',
        description: 'changed',
      });

      expect(first.created).toBe(true);
      expect(second).toEqual({ id: first.id, created: false });
      expect(await rowText(first.id)).toBe(row);
      expect(await auditCount()).toBe(audits);
      expect(events).toEqual([
        {
          name: 'secret:registered',
          payload: { id: first.id, created: true, scope: input.scope, keyName: 'k' },
        },
      ]);
    });
  });

  describe('status', () => {
    it("returns the spec's Secrets Status Response in snake_case", async () => {
      const secrets = manager();
      const { scope } = await newSecret(secrets, { keyType: 'secret_key', keyName: 'secret_key' });

      const response = await secrets.status({ scope });

      expect(Object.keys(response).sort()).toEqual(['secrets', 'summary']);
      expect(Object.keys(response.summary).sort()).toEqual([
        'active',
        'due_for_rotation',
        'rotating',
        'total_secrets',
      ]);
      expect(Object.keys(response.secrets[0]!)).toEqual(expect.arrayContaining(STATUS_FIELDS));
      for (const key of Object.keys(response.secrets[0]!)) {
        expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
      }
      expect(response.secrets[0]).toMatchObject({
        scope,
        key_name: 'secret_key',
        key_type: 'secret_key',
        rotation_schedule: 'quarterly',
        status: 'active',
        data_classification: 'restricted',
        rotation_due: false,
        rotation_status: 'OK',
      });
      expect(response.secrets[0]!.next_rotation_at).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      );
    });

    it('marks OVERDUE, DUE_SOON and OK and counts the summary', async () => {
      const { store } = database();
      const secrets = manager();
      const scope = uniqueScope();
      const overdue = await newSecret(secrets, { scope, keyName: 'a_overdue' });
      const soon = await newSecret(secrets, { scope, keyName: 'b_soon' });
      await newSecret(secrets, { scope, keyName: 'c_ok' });
      const rotating = await newSecret(secrets, { scope, keyName: 'd_rotating' });
      await setNextRotation(store, overdue.id, -3600);
      await setNextRotation(store, soon.id, 3 * 86_400);
      await secrets.startRotation({
        scope,
        keyName: rotating.keyName,
        rotationType: 'emergency',
        actor: 'alice',
      });

      const response = await secrets.status({ scope });

      expect(
        response.secrets.map((s) => [s.key_name, s.status, s.rotation_status, s.rotation_due]),
      ).toEqual([
        ['a_overdue', 'active', 'OVERDUE', true],
        ['b_soon', 'active', 'DUE_SOON', false],
        ['c_ok', 'active', 'OK', false],
        ['d_rotating', 'rotating', 'OK', false],
      ]);
      expect(response.summary).toEqual({
        total_secrets: 4,
        active: 3,
        rotating: 1,
        due_for_rotation: 1,
      });
      const late = Date.now() - new Date(response.secrets[0]!.next_rotation_at!).getTime();
      expect(late).toBeGreaterThan(3_000_000);
      expect(late).toBeLessThan(DAY_MS);
    });

    it('never counts a retired secret as due', async () => {
      const { store } = database();
      const secrets = manager();
      const { id, scope } = await newSecret(secrets);
      await setNextRotation(store, id, -30 * 86_400);
      await store.query(sql`update m28.secrets_config set status = 'retired'
        where id = ${id}::uuid`);

      const response = await secrets.status({ scope });

      expect(response.secrets[0]).toMatchObject({
        status: 'retired',
        rotation_due: false,
        rotation_status: 'OK',
      });
      expect(response.secrets[0]!.next_rotation_at).not.toBeNull();
      expect(response.summary).toEqual({
        total_secrets: 1,
        active: 0,
        rotating: 0,
        due_for_rotation: 0,
      });
    });

    it('filters by scope, and without one lists every scope', async () => {
      const secrets = manager();
      const one = await newSecret(secrets);
      const two = await newSecret(secrets);

      expect((await secrets.status({ scope: one.scope })).secrets.map((s) => s.scope)).toEqual([
        one.scope,
      ]);
      const all = (await secrets.status()).secrets.map((s) => s.scope);
      expect(all).toEqual(expect.arrayContaining([one.scope, two.scope]));
      expect((await secrets.status({ scope: uniqueScope('none') })).summary.total_secrets).toBe(0);
    });

    it('hides restricted secrets from m28_admin, not from m28_system or superadmin', async () => {
      const secrets = manager();
      const scope = uniqueScope();
      await newSecret(secrets, { scope, keyName: 'api', keyType: 'api_key' });
      await newSecret(secrets, { scope, keyName: 'signing', keyType: 'secret_key' });
      const names = async (role?: 'm28_admin' | 'm28_superadmin') =>
        (await secrets.status({ scope, ...(role ? { role } : {}) })).secrets.map((s) => s.key_name);

      expect(await names()).toEqual(['api', 'signing']);
      expect(await names('m28_superadmin')).toEqual(['api', 'signing']);
      expect(await names('m28_admin')).toEqual(['api']);
      const admin = new SecretsManager({ store: database().store, role: 'm28_admin' });
      expect((await admin.status({ scope })).summary.total_secrets).toBe(1);
    });
  });
});
