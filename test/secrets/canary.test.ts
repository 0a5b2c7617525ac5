import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  fingerprint,
  RotationScheduler,
  SecretsManager,
  type M28Store,
  type Rotator,
  type RotatorHooks,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { M28_TABLES } from '../store/rotation-fixtures.js';
import {
  CANARY,
  newSecret,
  recordEvents,
  SCHEDULER_EVENTS,
  SECRETS_EVENTS,
  setNextRotation,
  uniqueScope,
} from './support.js';

/** The canary, and a tail of it, in case a value was cut short rather than left out. */
const NEEDLES = [CANARY, CANARY.slice(-12)];
const count = (text: string) => NEEDLES.reduce((n, needle) => n + text.split(needle).length - 1, 0);

const leakyError = () => Object.assign(new Error(`401 for key ${CANARY}`), { code: 'EPROVIDER' });

/** Rotators whose new value is the canary, succeeding or failing at each step. */
function rotators(): Record<string, Rotator> {
  const plain: Rotator = {
    create: () => ({ value: CANARY, version: 'v-auto' }),
    apply() {},
    test() {},
    finish() {},
    retries: 0,
  };
  const maintenance = { provider: 'stripe', service: 'payment', downtimeSeconds: 30 };
  const ok: Rotator = { ...plain, maintenance };
  const failAt = (step: 'create' | 'apply' | 'test' | 'finish'): Rotator => ({
    ...plain,
    [step]: () => {
      throw leakyError();
    },
  });

  return {
    [uniqueScope('ok')]: ok,
    [uniqueScope('create')]: failAt('create'),
    [uniqueScope('apply')]: failAt('apply'),
    [uniqueScope('test')]: failAt('test'),
    [uniqueScope('finish')]: failAt('finish'),
    [uniqueScope('thrown')]: {
      ...ok,
      create: () => {
        throw CANARY;
      },
    },
    [uniqueScope('badversion')]: { ...ok, create: () => ({ value: CANARY, version: '' }) },
  };
}

async function dumpTables(store: M28Store): Promise<string> {
  const parts: string[] = [];
  for (const table of M28_TABLES) {
    const rows = await store.query<{ t: string }>(
      sql`select t::text as t from ${sql.identifier('m28')}.${sql.identifier(table)} t`,
    );
    parts.push(...rows.map((row) => row.t));
  }
  const meta = await store.query<{ t: string }>(sql`select meta::text as t from m28.audit_log`);

  return [...parts, ...meta.map((row) => row.t)].join('\n');
}

function errorText(error: unknown): string {
  const e = error as Error & { cause?: unknown; issues?: unknown };
  const cause = e?.cause as Error | undefined;

  return [
    String(error),
    e?.message,
    e?.stack,
    JSON.stringify(error),
    JSON.stringify(e?.issues),
    String(cause),
    cause?.stack,
  ].join('\n');
}

describe.each(backends)('SecretsManager and RotationScheduler on %s', (backend) => {
  const database = useDatabase(backend);

  it('keep the secret value out of every event, error and table', async () => {
    const { store } = database();
    const secrets = new SecretsManager({ store });
    const events = recordEvents(secrets, SECRETS_EVENTS);
    const errors: unknown[] = [];
    let refusals = 0;
    const refused = async (work: () => unknown) => {
      refusals += 1;
      try {
        await work();
      } catch (error) {
        errors.push(error);
      }
    };

    // The manual workflow, with fingerprints of the canary.
    const names = { scope: uniqueScope('manual'), keyName: 'secret_key' };
    await secrets.register({ ...names, keyType: 'secret_key', description: 'payments' });
    const start = { ...names, rotationType: 'emergency' as const, actor: 'alice' };
    const done = (version: string, hmacKey?: string) => ({
      version,
      fingerprint: fingerprint(CANARY, hmacKey ? { hmacKey } : {}),
      affectedServices: ['api_service'],
      downtimeSeconds: 0,
    });
    const first = await secrets.startRotation(start);
    await secrets.completeRotation(first.rotationId, done('v1'));
    const second = await secrets.startRotation({ ...start, requestId: 'INCIDENT_1' });
    await secrets.completeRotation(second.rotationId, done('v2', `${CANARY}-hmac`));
    await secrets.rollback({ ...names, reason: 'v2 broke checkout', actor: 'bob' });
    const failed = await secrets.startRotation(start);
    await secrets.failRotation(failed.rotationId, { reason: 'provider timeout', actor: 'bob' });
    const cancelled = await secrets.startRotation(start);
    await secrets.cancelRotation(cancelled.rotationId, { reason: 'wrong key', actor: 'bob' });

    // Refusals that reach the database.
    await refused(() => secrets.startRotation({ ...start, rotationType: 'scheduled' }));
    const open = await secrets.startRotation(start);
    await refused(() => secrets.startRotation(start));
    await secrets.completeRotation(open.rotationId, done('v3'));
    await refused(() => secrets.completeRotation(open.rotationId, done('v4')));
    const fresh = await newSecret(secrets);
    await refused(() =>
      secrets.rollback({ scope: fresh.scope, keyName: fresh.keyName, reason: 'r', actor: 'a' }),
    );
    await refused(() => secrets.startRotation({ ...start, scope: CANARY, keyName: CANARY }));
    await refused(() => secrets.completeRotation(randomUUID(), done('v5')));
    await refused(() => secrets.history({ scope: CANARY, keyName: CANARY }));

    // The scheduler, auto-starting rotators that succeed or fail at each step.
    const hooks: RotatorHooks = {
      enterMaintenance: async () => {},
      exitMaintenance: async () => {
        throw leakyError();
      },
    };
    const byScope = rotators();
    const scheduler = new RotationScheduler({
      store,
      secrets,
      autoStart: true,
      rotators: byScope,
      hooks,
    });
    const schedulerEvents = recordEvents(scheduler, SCHEDULER_EVENTS);
    for (const scope of [...Object.keys(byScope), uniqueScope('norotator')]) {
      const { id } = await newSecret(secrets, { scope });
      await setNextRotation(store, id, -8 * 86_400);
    }
    const soon = await newSecret(secrets);
    await setNextRotation(store, soon.id, 86_400);
    await scheduler.scan();
    await scheduler.close();
    const okScope = Object.keys(byScope)[0]!;
    await scheduler.rotateNow({ scope: okScope, keyName: 'signing_key', actor: 'ops' });
    await refused(() => scheduler.rotateNow({ scope: CANARY, keyName: CANARY, actor: CANARY }));

    // Bad input with the canary in every field, an unknown one included.
    const everywhere = {
      scope: CANARY,
      keyName: CANARY,
      role: CANARY,
      actor: CANARY,
      extra: CANARY,
    } as never;
    await refused(() =>
      secrets.register({
        ...(everywhere as object),
        keyType: CANARY,
        rotationSchedule: CANARY,
        dataClassification: CANARY,
        description: CANARY.repeat(50),
      } as never),
    );
    await refused(() =>
      secrets.register({ ...names, keyType: 'api_key', scope: CANARY.repeat(5) }),
    );
    await refused(() =>
      secrets.startRotation({
        ...(everywhere as object),
        rotationType: CANARY,
        force: CANARY,
        requestId: CANARY.repeat(10),
      } as never),
    );
    const completeEverywhere = {
      version: CANARY.repeat(5),
      fingerprint: CANARY,
      affectedServices: [CANARY, ''],
      downtimeSeconds: CANARY,
      actor: CANARY,
      role: CANARY,
      extra: CANARY,
    } as never;
    await refused(() => secrets.completeRotation(CANARY, completeEverywhere));
    await refused(() => secrets.completeRotation(cancelled.rotationId, completeEverywhere));
    await refused(() =>
      secrets.completeRotation(cancelled.rotationId, { ...done('v6'), fingerprint: CANARY }),
    );
    const endEverywhere = { reason: CANARY.repeat(60), actor: CANARY, role: CANARY } as never;
    await refused(() => secrets.failRotation(CANARY, endEverywhere));
    await refused(() => secrets.cancelRotation(failed.rotationId, endEverywhere));
    await refused(() =>
      secrets.rollback({ ...(everywhere as object), reason: '', requestId: 1 } as never),
    );
    await refused(() => secrets.status({ scope: CANARY.repeat(5), role: CANARY } as never));
    await refused(() => secrets.history({ ...(everywhere as object), keyName: '' } as never));
    await refused(() => fingerprint(CANARY, { hmacKey: '' }));
    await refused(() => fingerprint({ value: CANARY } as never));
    await refused(
      () =>
        new RotationScheduler({
          store,
          secrets,
          actor: CANARY.repeat(10),
          rotators: { x: { create: CANARY, hmacKey: [CANARY] } as never },
        }),
    );

    expect(errors).toHaveLength(refusals);
    const eventText = JSON.stringify([...events, ...schedulerEvents]);
    const backgroundErrors = schedulerEvents.filter((event) => event.name === 'error');
    const text = [
      eventText,
      ...[...errors, ...backgroundErrors.map((event) => event.payload)].map(errorText),
      await dumpTables(store),
    ].join('\n');
    expect(count(text)).toBe(0);
    // The run did what it claims: the canary's fingerprint and each step's failure are there.
    expect(text).toContain(fingerprint(CANARY));
    for (const step of ['create', 'apply', 'test', 'finish']) {
      expect(eventText).toContain(`${step} failed: EPROVIDER`);
    }
    expect(eventText).toContain('create failed: string');
    expect(eventText).toContain('complete failed: M28_VALIDATION');
  });
});
