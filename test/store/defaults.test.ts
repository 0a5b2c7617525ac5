import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { KEY_TYPE_DEFAULTS, KEY_TYPES, M28DatabaseError, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';

const RAW_KEY = 'sk_live_CANARY123';
const newScope = () => `scope_${randomUUID().slice(0, 8)}`;
const UTC = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;

/** An instant as ISO 8601 in UTC, formatted by the database whatever the session zone. */
const utcText = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', ${UTC})`);

interface Inserted {
  id: string;
  rotation_schedule: string;
  data_classification: string;
  status: string;
  next_is_schedule_from_now: boolean;
}

async function insertSecret(store: M28Store, keyType: string): Promise<Inserted> {
  const [row] = await store.query<Inserted>(sql`
    insert into m28.secrets_config (scope, key_name, key_type)
    values (${newScope()}, 'main', ${keyType}::m28.key_type)
    returning id::text, rotation_schedule::text, data_classification::text, status::text,
      next_rotation_at = m28.next_rotation_after(rotation_schedule, now())
        as next_is_schedule_from_now`);

  return row!;
}

async function nextRotation(store: M28Store, id: string): Promise<string | null> {
  const [row] = await store.query<{ next: string | null }>(
    sql`select ${utcText('next_rotation_at')} as next from m28.secrets_config where id = ${id}`,
  );

  return row!.next;
}

async function sqlStateOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(M28DatabaseError);
  expect(JSON.stringify(error)).not.toContain(RAW_KEY);
  expect((error as Error).message).not.toContain(RAW_KEY);

  return (error as M28DatabaseError).sqlState;
}

describe.each(backends)('secrets_config defaults on %s', (backend) => {
  const database = useDatabase(backend);

  describe('KEY_TYPE_DEFAULTS', () => {
    it('follows the spec table for every key type', () => {
      expect(KEY_TYPE_DEFAULTS).toEqual({
        api_key: { rotationSchedule: 'quarterly', dataClassification: 'confidential' },
        secret_key: { rotationSchedule: 'quarterly', dataClassification: 'restricted' },
        private_key: { rotationSchedule: 'annual', dataClassification: 'restricted' },
        certificate: { rotationSchedule: 'annual', dataClassification: 'public' },
        token: { rotationSchedule: 'monthly', dataClassification: 'restricted' },
        password: { rotationSchedule: 'quarterly', dataClassification: 'restricted' },
      });
    });

    it('lists exactly the key types of the m28.key_type enum', async () => {
      const [row] = await database().store.query<{ types: string }>(
        sql`select array_to_string(enum_range(null::m28.key_type), ',') as types`,
      );

      expect(row?.types.split(',')).toEqual([...KEY_TYPES]);
    });
  });

  describe('the secrets_config insert trigger', () => {
    it.each(KEY_TYPES)('gives a %s secret the defaults of KEY_TYPE_DEFAULTS', async (keyType) => {
      const row = await insertSecret(database().store, keyType);

      expect(row).toMatchObject({
        rotation_schedule: KEY_TYPE_DEFAULTS[keyType].rotationSchedule,
        data_classification: KEY_TYPE_DEFAULTS[keyType].dataClassification,
        status: 'active',
        next_is_schedule_from_now: true,
      });
    });

    it('sets next_rotation_at one calendar month from now for a token', async () => {
      const [row] = await database().store.query<{ matches: boolean }>(sql`
        insert into m28.secrets_config (scope, key_name, key_type)
        values (${newScope()}, 'main', 'token')
        returning next_rotation_at =
          ((now() at time zone 'UTC') + interval '1 month') at time zone 'UTC' as matches`);

      expect(row?.matches).toBe(true);
    });

    it('keeps an explicit rotation_schedule and data_classification', async () => {
      const { store } = database();
      const [row] = await store.query<Inserted>(sql`
        insert into m28.secrets_config (scope, key_name, key_type, rotation_schedule,
          data_classification, last_rotated_at)
        values (${newScope()}, 'main', 'token', 'weekly', 'internal', '2026-01-15T00:00:00Z')
        returning id::text, rotation_schedule::text, data_classification::text`);

      expect(row).toMatchObject({ rotation_schedule: 'weekly', data_classification: 'internal' });
      expect(await nextRotation(store, row!.id)).toBe('2026-01-22T00:00:00Z');
    });
  });

  describe('the secrets_config update trigger', () => {
    it('recomputes next_rotation_at when rotation_schedule changes', async () => {
      const { store } = database();
      const [row] = await store.query<{ id: string }>(sql`
        insert into m28.secrets_config (scope, key_name, key_type, last_rotated_at)
        values (${newScope()}, 'main', 'api_key', '2026-01-15T09:30:00Z') returning id::text`);
      const id = row!.id;
      expect(await nextRotation(store, id)).toBe('2026-04-15T09:30:00Z');

      await store.query(sql`update m28.secrets_config set rotation_schedule = 'monthly'
        where id = ${id}`);
      expect(await nextRotation(store, id)).toBe('2026-02-15T09:30:00Z');

      await store.query(sql`update m28.secrets_config set rotation_schedule = 'manual'
        where id = ${id}`);
      expect(await nextRotation(store, id)).toBeNull();
    });

    it('keeps a next_rotation_at set by the same update', async () => {
      const { store } = database();
      const { id } = await insertSecret(store, 'api_key');

      await store.query(sql`update m28.secrets_config set rotation_schedule = 'daily',
        next_rotation_at = '2030-06-01T00:00:00Z' where id = ${id}`);

      expect(await nextRotation(store, id)).toBe('2030-06-01T00:00:00Z');
    });
  });

  describe('secrets_config constraints', () => {
    it('refuse a raw key written into a fingerprint column with a check violation', async () => {
      const { store } = database();
      const { id } = await insertSecret(store, 'api_key');

      expect(
        await sqlStateOf(
          store.query(sql`insert into m28.secrets_config
            (scope, key_name, key_type, current_fingerprint)
            values (${newScope()}, 'main', 'api_key', ${RAW_KEY})`),
        ),
      ).toBe('23514');
      expect(
        await sqlStateOf(
          store.query(sql`update m28.secrets_config set previous_fingerprint = ${RAW_KEY}
            where id = ${id}`),
        ),
      ).toBe('23514');
      const [row] = await store.query<{ n: number }>(
        sql`select count(*)::int as n from m28.secrets_config where previous_fingerprint is not null
          or current_fingerprint is not null`,
      );
      expect(row?.n).toBe(0);
    });

    it('refuse an unknown key_type as invalid text', async () => {
      const query = sql`insert into m28.secrets_config (scope, key_name, key_type)
        values (${newScope()}, 'main', ${'ssh_key'}::m28.key_type)`;

      expect(await sqlStateOf(database().store.query(query))).toBe('22P02');
    });

    it.each(['', '   '])('refuse the scope %j with a check violation', async (scope) => {
      const query = sql`insert into m28.secrets_config (scope, key_name, key_type)
        values (${scope}, 'main', 'api_key')`;

      expect(await sqlStateOf(database().store.query(query))).toBe('23514');
    });
  });

  describe('m28.next_rotation_after', () => {
    const cases: [string, string, string | null][] = [
      ['daily', '2026-03-07T12:00:00Z', '2026-03-08T12:00:00Z'],
      ['daily', '2026-04-04T12:00:00Z', '2026-04-05T12:00:00Z'],
      ['weekly', '2026-03-05T12:00:00Z', '2026-03-12T12:00:00Z'],
      ['weekly', '2026-09-24T12:00:00Z', '2026-10-01T12:00:00Z'],
      ['monthly', '2027-01-31T10:00:00Z', '2027-02-28T10:00:00Z'],
      ['monthly', '2028-01-31T10:00:00Z', '2028-02-29T10:00:00Z'],
      ['monthly', '2027-03-31T23:30:00Z', '2027-04-30T23:30:00Z'],
      ['quarterly', '2026-11-30T10:00:00Z', '2027-02-28T10:00:00Z'],
      ['quarterly', '2026-08-31T12:00:00Z', '2026-11-30T12:00:00Z'],
      ['annual', '2028-02-29T10:00:00Z', '2029-02-28T10:00:00Z'],
      ['annual', '2028-02-28T12:00:00Z', '2029-02-28T12:00:00Z'],
      ['manual', '2026-01-01T00:00:00Z', null],
    ];

    describe.each(['UTC', 'America/New_York', 'Pacific/Auckland'])('in %s', (zone) => {
      it.each(cases)('adds %s to %s on the UTC calendar', async (schedule, from, expected) => {
        const { store } = database();

        const row = await store.db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('TimeZone', ${zone}, true)`);
          const [result] = await store.query<{ next: string | null; zone: string }>(
            sql`select ${utcText(`m28.next_rotation_after(x.s, x.t)`)} as next,
              current_setting('TimeZone') as zone
            from (select ${schedule}::m28.rotation_schedule as s, ${from}::timestamptz as t) x`,
            tx,
          );

          return result;
        });

        expect(row).toEqual({ next: expected, zone });
      });
    });
  });
});
