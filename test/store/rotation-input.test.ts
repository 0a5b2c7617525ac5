import { sql, type SQL } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { ValidationError, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  asRole,
  fp,
  rotations,
  secretState,
  seedSecret,
  start,
  tableCounts,
} from './rotation-fixtures.js';

/** A raw provider key. It must never come back in an error, whatever argument carried it. */
const CANARY = 'sk_live_CANARY123';
/** `n` characters that start with the raw key. */
const long = (n: number) => (CANARY + 'x'.repeat(n)).slice(0, n);
const upperHex = `sha256:${fp('v2').slice('sha256:'.length).toUpperCase()}`;

type Value = string | number | boolean | null | string[];
type Args = Record<string, Value>;
interface Ids {
  secretId: string;
  rotationId: string;
}

function text(value: Value): SQL {
  if (Array.isArray(value)) {
    return value.length === 0
      ? sql`'{}'::text[]`
      : sql`array[${sql.join(
          value.map((v) => sql`${v}::text`),
          sql`, `,
        )}]::text[]`;
  }

  return sql`${value}`;
}

/** Each function: its argument list with SQL types, and valid arguments that carry the key. */
const FUNCTIONS: Record<string, { params: [string, string][]; valid: (ids: Ids) => Args }> = {
  start_secret_rotation: {
    params: [
      ['secret_config_id', 'uuid'],
      ['rotation_type', 'text'],
      ['initiated_by', 'text'],
      ['request_id', 'text'],
      ['force', 'boolean'],
    ],
    valid: ({ secretId }) => ({
      secret_config_id: secretId,
      rotation_type: 'manual',
      initiated_by: CANARY,
      request_id: CANARY,
      force: true,
    }),
  },
  complete_secret_rotation: {
    params: [
      ['rotation_id', 'uuid'],
      ['new_version', 'text'],
      ['fingerprint', 'text'],
      ['affected_services', 'text[]'],
      ['downtime_seconds', 'integer'],
      ['completed_by', 'text'],
    ],
    valid: ({ rotationId }) => ({
      rotation_id: rotationId,
      new_version: CANARY,
      fingerprint: fp('v2'),
      affected_services: ['api', CANARY],
      downtime_seconds: 0,
      completed_by: CANARY,
    }),
  },
  fail_secret_rotation: {
    params: [
      ['rotation_id', 'uuid'],
      ['reason', 'text'],
      ['failed_by', 'text'],
    ],
    valid: ({ rotationId }) => ({
      rotation_id: rotationId,
      reason: `leaked ${CANARY}`,
      failed_by: CANARY,
    }),
  },
  cancel_secret_rotation: {
    params: [
      ['rotation_id', 'uuid'],
      ['reason', 'text'],
      ['cancelled_by', 'text'],
    ],
    valid: ({ rotationId }) => ({
      rotation_id: rotationId,
      reason: `leaked ${CANARY}`,
      cancelled_by: CANARY,
    }),
  },
  rollback_secret_rotation: {
    params: [
      ['secret_config_id', 'uuid'],
      ['reason', 'text'],
      ['initiated_by', 'text'],
      ['request_id', 'text'],
    ],
    valid: ({ secretId }) => ({
      secret_config_id: secretId,
      reason: `leaked ${CANARY}`,
      initiated_by: CANARY,
      request_id: CANARY,
    }),
  },
};

function callSql(fn: string, args: Args): SQL {
  const list = FUNCTIONS[fn]!.params.map(([name, type]) =>
    type === 'text[]' ? text(args[name]!) : sql`${text(args[name]!)}::${sql.raw(type)}`,
  );

  return sql`select ${sql.raw(`m28.${fn}`)}(${sql.join(list, sql`, `)})`;
}

/** One bad argument per case: [label, the argument, its bad value]. */
const BAD: Record<string, [string, string, Value][]> = {
  start_secret_rotation: [
    ['an unknown rotation_type', 'rotation_type', 'yearly'],
    ['rotation_type rollback, which only the rollback writes', 'rotation_type', 'rollback'],
    ['a raw key as rotation_type', 'rotation_type', CANARY],
    ['a null secret_config_id', 'secret_config_id', null],
    ['an empty initiated_by', 'initiated_by', ''],
    ['a blank initiated_by', 'initiated_by', '   '],
    ['a 101-character initiated_by', 'initiated_by', long(101)],
    ['a 201-character initiated_by', 'initiated_by', long(201)],
    ['a 201-character request_id', 'request_id', long(201)],
  ],
  complete_secret_rotation: [
    ['a null rotation_id', 'rotation_id', null],
    ['an empty new_version', 'new_version', ''],
    ['a 101-character new_version', 'new_version', long(101)],
    ['a raw key as fingerprint', 'fingerprint', CANARY],
    ['an uppercase hex fingerprint', 'fingerprint', upperHex],
    ['a 63-digit fingerprint', 'fingerprint', fp('v2').slice(0, -1)],
    ['a null fingerprint', 'fingerprint', null],
    ['null affected_services', 'affected_services', null],
    ['an empty string in affected_services', 'affected_services', ['api', '']],
    ['a 101-character service', 'affected_services', ['api', long(101)]],
    ['101 affected_services', 'affected_services', Array.from({ length: 101 }, (_, i) => `s${i}`)],
    ['a negative downtime_seconds', 'downtime_seconds', -1],
    ['a null downtime_seconds', 'downtime_seconds', null],
    ['an empty completed_by', 'completed_by', ''],
    ['a 201-character completed_by', 'completed_by', long(201)],
  ],
  fail_secret_rotation: [
    ['a null rotation_id', 'rotation_id', null],
    ['an empty reason', 'reason', ''],
    ['a 1001-character reason', 'reason', long(1001)],
    ['an empty failed_by', 'failed_by', ''],
    ['a 201-character failed_by', 'failed_by', long(201)],
  ],
  cancel_secret_rotation: [
    ['a null rotation_id', 'rotation_id', null],
    ['a blank reason', 'reason', '  '],
    ['an empty cancelled_by', 'cancelled_by', ''],
    ['a 201-character cancelled_by', 'cancelled_by', long(201)],
  ],
  rollback_secret_rotation: [
    ['a null secret_config_id', 'secret_config_id', null],
    ['an empty reason', 'reason', ''],
    ['a 1001-character reason', 'reason', long(1001)],
    ['an empty initiated_by', 'initiated_by', ''],
    ['a 101-character initiated_by', 'initiated_by', long(101)],
    ['a 201-character request_id', 'request_id', long(201)],
  ],
};

/** Everything a bad call could have changed. */
async function snapshot(store: M28Store, ids: Ids & { openSecretId: string }) {
  return {
    counts: await tableCounts(store),
    secret: await secretState(store, ids.secretId),
    openSecret: await secretState(store, ids.openSecretId),
    rotations: await rotations(store, ids.openSecretId),
  };
}

describe.each(backends)('rotation functions given bad input on %s', (backend) => {
  const database = useDatabase(backend);

  describe.each(Object.keys(FUNCTIONS))('%s', (fn) => {
    it.each(BAD[fn]!)('rejects %s naming %s, leaking no key', async (_, field, value) => {
      const { store } = database();
      const secretId = await seedSecret(store, { version: 'v1', previous: 'v0', due: true });
      const openSecretId = await seedSecret(store);
      const ids = { secretId, openSecretId, rotationId: await start(store, openSecretId) };
      const args = { ...FUNCTIONS[fn]!.valid(ids), [field]: value };
      expect(JSON.stringify(args)).toContain(CANARY);
      const before = await snapshot(store, ids);

      const error = await asRole(store, 'm28_admin', callSql(fn, args)).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'M28_VALIDATION', field });
      expect((error as ValidationError).issues[0]?.field).toBe(field);
      for (const text of [
        (error as Error).message,
        JSON.stringify(error),
        String((error as Error).cause),
        String((error as Error).stack),
      ]) {
        expect(text).not.toContain('CANARY123');
      }
      expect(await snapshot(store, ids)).toEqual(before);
    });
  });
});
