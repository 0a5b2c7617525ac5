import { randomUUID } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import { fingerprint, SecretsManager, ValidationError } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { tableCounts } from '../store/rotation-fixtures.js';
import { newSecret } from './support.js';

const long = 'n'.repeat(101);
const upperHex = `sha256:${fingerprint('v2').slice('sha256:'.length).toUpperCase()}`;

interface Open {
  secrets: SecretsManager;
  scope: string;
  keyName: string;
  rotationId: string;
}

/** Each bad call, and the field its error must name first. */
const CASES: [string, string, (open: Open) => Promise<unknown>][] = [];
const add = (name: string, field: string, call: (open: Open) => Promise<unknown>) =>
  CASES.push([name, field, call]);
const register = { scope: 'stripe_input', keyName: 'k', keyType: 'api_key' } as const;
const start = { rotationType: 'emergency', actor: 'alice' } as const;
const done = {
  version: 'v2',
  fingerprint: fingerprint('v2'),
  affectedServices: [],
  downtimeSeconds: 0,
};
const names = (o: Open) => ({ scope: o.scope, keyName: o.keyName });
const end = { reason: 'r', actor: 'a' };
const any = <T>(value: unknown) => value as T;

add('an unknown key type', 'keyType', (o) =>
  o.secrets.register({ ...register, keyType: any('ssh_key') }),
);
add('an unknown schedule', 'rotationSchedule', (o) =>
  o.secrets.register({ ...register, rotationSchedule: any('yearly') }),
);
add('an unknown classification', 'dataClassification', (o) =>
  o.secrets.register({ ...register, dataClassification: any('secret') }),
);
add('an empty scope', 'scope', (o) => o.secrets.register({ ...register, scope: '' }));
add('a blank key name', 'keyName', (o) => o.secrets.register({ ...register, keyName: '   ' }));
add('a 101-character scope', 'scope', (o) => o.secrets.register({ ...register, scope: long }));
add('a 101-character key name', 'keyName', (o) =>
  o.secrets.register({ ...register, keyName: long }),
);
add('an unknown role', 'role', (o) => o.secrets.register({ ...register, role: any('postgres') }));
add('an unknown field on register', 'secretValue', (o) =>
  o.secrets.register(any({ ...register, secretValue: 'sk_live_x' })),
);
add('an unknown rotation type', 'rotationType', (o) =>
  o.secrets.startRotation({ ...names(o), ...start, rotationType: any('yearly') }),
);
add('the rollback rotation type', 'rotationType', (o) =>
  o.secrets.startRotation({ ...names(o), ...start, rotationType: any('rollback') }),
);
add('a blank actor', 'actor', (o) =>
  o.secrets.startRotation({ ...names(o), ...start, actor: ' ' }),
);
add('a non-boolean force', 'force', (o) =>
  o.secrets.startRotation({ ...names(o), ...start, force: any('yes') }),
);
add('the spec body field force_rotation', 'force_rotation', (o) =>
  o.secrets.startRotation(any({ ...names(o), ...start, force_rotation: true })),
);
add('a raw key as fingerprint', 'fingerprint', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, fingerprint: 'sk_live_abc123' }),
);
add('an uppercase-hex fingerprint', 'fingerprint', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, fingerprint: upperHex }),
);
add('a negative downtime', 'downtimeSeconds', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, downtimeSeconds: -1 }),
);
add('a fractional downtime', 'downtimeSeconds', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, downtimeSeconds: 1.5 }),
);
add('a downtime beyond a PostgreSQL integer', 'downtimeSeconds', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, downtimeSeconds: 2 ** 31 }),
);
add('an empty version', 'version', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, version: '' }),
);
add('a blank affected service', 'affectedServices.0', (o) =>
  o.secrets.completeRotation(o.rotationId, { ...done, affectedServices: [''] }),
);
add('a rotation id that is not a UUID', 'rotationId', (o) =>
  o.secrets.completeRotation('42', done),
);
add('an unknown field on completeRotation', 'key', (o) =>
  o.secrets.completeRotation(o.rotationId, any({ ...done, key: 'x' })),
);
add('an empty failure reason', 'reason', (o) =>
  o.secrets.failRotation(o.rotationId, { ...end, reason: '' }),
);
add('a blank cancelling actor', 'actor', (o) =>
  o.secrets.cancelRotation(o.rotationId, { ...end, actor: '\t' }),
);
add('a 1001-character reason', 'reason', (o) =>
  o.secrets.failRotation(o.rotationId, { ...end, reason: 'r'.repeat(1001) }),
);
add('a 101-character key name on rollback', 'keyName', (o) =>
  o.secrets.rollback({ scope: o.scope, keyName: long, ...end }),
);
add('an unknown field on rollback', 'version', (o) =>
  o.secrets.rollback(any({ ...names(o), ...end, version: 'v0' })),
);
add('an empty scope filter', 'scope', (o) => o.secrets.status({ scope: '' }));
add('an unknown status role', 'role', (o) => o.secrets.status({ role: any('root') }));
add('an empty history key name', 'keyName', (o) =>
  o.secrets.history({ scope: o.scope, keyName: '' }),
);

describe.each(backends)('SecretsManager input validation on %s', (backend) => {
  const database = useDatabase(backend);
  let open: Open;

  beforeAll(async () => {
    const secrets = new SecretsManager({ store: database().store });
    const { scope, keyName } = await newSecret(secrets);
    const { rotationId } = await secrets.startRotation({ scope, keyName, ...start });
    open = { secrets, scope, keyName, rotationId };
  });

  it.each(CASES)('refuses %s, naming %s, and changes nothing', async (_name, field, call) => {
    const before = await tableCounts(database().store);

    const error = await call(open).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.field).toBe(field);
    expect((error as ValidationError).issues.every((i) => i.received === '[redacted]')).toBe(true);
    expect(await tableCounts(database().store)).toEqual(before);
  });

  it('leaves the open rotation open after every refused call', async () => {
    const history = await open.secrets.history({ scope: open.scope, keyName: open.keyName });

    expect(history.map((entry) => [entry.id, entry.status])).toEqual([
      [open.rotationId, 'in_progress'],
    ]);
  });

  it('names an unknown rotation id as not found, without echoing it', async () => {
    const id = randomUUID();

    const error = await open.secrets.failRotation(id, end).catch((reason: unknown) => reason);

    expect((error as { code?: string }).code).toBe('M28_NOT_FOUND');
    expect(String(error)).not.toContain(id);
  });
});
