import { describe, expect, it } from 'vitest';

import {
  fingerprint,
  RotationScheduler,
  SecretsManager,
  ValidationError,
  type Rotator,
  type RotatorHooks,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  CANARY,
  eventsOf,
  newSecret,
  recordEvents,
  SECRETS_EVENTS,
  secretRow,
  setNextRotation,
  uniqueScope,
} from '../secrets/support.js';

const STEPS = ['create', 'apply', 'test', 'finish'] as const;
type Step = (typeof STEPS)[number];

/** A provider error whose message carries the raw key, as careless SDKs do. */
const providerError = () =>
  Object.assign(new Error(`rejected key ${CANARY}`), { code: 'EPROVIDER' });

/** A rotator that logs each call and fails `failing` steps `failures` times. */
function rotator(failing: Partial<Record<Step, number>> = {}, extra: Partial<Rotator> = {}) {
  const calls: string[] = [];
  const run = (step: Step, attempt: number) => {
    calls.push(`${step}#${attempt}`);
    if (attempt <= (failing[step] ?? 0)) {
      throw providerError();
    }
  };
  const value: Rotator = {
    create: (context) => {
      run('create', context.attempt);

      return { value: `${CANARY}-new`, version: 'v2' };
    },
    apply: (context) => run('apply', context.attempt),
    test: (context) => run('test', context.attempt),
    finish: (context) => run('finish', context.attempt),
    affectedServices: ['payment_service'],
    retries: 1,
    ...extra,
  };

  return { rotator: value, calls };
}

describe.each(backends)('RotationScheduler with rotators on %s', (backend) => {
  const database = useDatabase(backend);

  async function setup(scopeRotator: Rotator, hooks?: RotatorHooks) {
    const { store } = database();
    const secrets = new SecretsManager({ store });
    const events = recordEvents(secrets, SECRETS_EVENTS);
    const scope = uniqueScope('auto');
    const scheduler = new RotationScheduler({
      store,
      secrets,
      autoStart: true,
      rotators: { [scope]: scopeRotator },
      ...(hooks ? { hooks } : {}),
    });
    const secret = await newSecret(secrets, { scope });
    const { rotationId } = await secrets.startRotation({
      scope,
      keyName: secret.keyName,
      rotationType: 'manual',
      force: true,
      actor: 'seed',
    });
    await secrets.completeRotation(rotationId, {
      version: 'v1',
      fingerprint: fingerprint('v1'),
      affectedServices: [],
      downtimeSeconds: 0,
    });
    const names = { scope, keyName: secret.keyName };

    return { store, secrets, scheduler, events, secret, names };
  }

  it('completes a rotation with the fingerprint of the new value', async () => {
    const { rotator: r, calls } = rotator();
    const { store, scheduler, secrets, secret, names, events } = await setup(r);

    const outcome = await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(outcome).toEqual({
      status: 'completed',
      version: 'v2',
      fingerprint: fingerprint(`${CANARY}-new`),
    });
    expect(calls).toEqual(['create#1', 'apply#1', 'test#1', 'finish#1']);
    expect(await secretRow(store, secret.id)).toMatchObject({
      current_version: 'v2',
      current_fingerprint: fingerprint(`${CANARY}-new`),
      previous_version: 'v1',
    });
    expect((await secrets.history(names))[0]).toMatchObject({
      rotation_type: 'emergency',
      status: 'completed',
      completed_by: 'ops-bot',
      affected_services: ['payment_service'],
      downtime_seconds: 0,
    });
    expect(eventsOf(events, names.scope, 'rotation:completed')).toHaveLength(2);
  });

  it('fingerprints with HMAC-SHA256 when the rotator has an hmacKey', async () => {
    const { rotator: r } = rotator({}, { hmacKey: 'host-key' });
    const { store, scheduler, secret, names } = await setup(r);

    await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect((await secretRow(store, secret.id)).current_fingerprint).toBe(
      fingerprint(`${CANARY}-new`, { hmacKey: 'host-key' }),
    );
  });

  it('rotates a due secret end to end on an autoStart scan', async () => {
    const { rotator: r, calls } = rotator();
    const { store, scheduler, secrets, secret, names } = await setup(r);
    await setNextRotation(store, secret.id, -60);

    await scheduler.scan();
    await scheduler.close();

    expect(calls).toEqual(['create#1', 'apply#1', 'test#1', 'finish#1']);
    expect((await secrets.history(names))[0]).toMatchObject({
      rotation_type: 'scheduled',
      status: 'completed',
      new_fingerprint: fingerprint(`${CANARY}-new`),
    });
  });

  it.each(STEPS)(
    'fails the rotation when %s keeps failing, keeping the current version',
    async (step) => {
      const { rotator: r, calls } = rotator({ [step]: 99 });
      const { store, scheduler, secrets, secret, names, events } = await setup(r);

      const outcome = await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

      const reason = `${step} failed: EPROVIDER`;
      expect(outcome).toEqual({ status: 'failed', step, reason });
      expect(calls.filter((c) => c.startsWith(step))).toEqual([`${step}#1`, `${step}#2`]);
      expect(calls.at(-1)).toBe(`${step}#2`);
      expect(await secretRow(store, secret.id)).toMatchObject({
        status: 'active',
        current_version: 'v1',
        current_fingerprint: fingerprint('v1'),
      });
      expect((await secrets.history(names))[0]).toMatchObject({
        status: 'failed',
        failure_reason: reason,
      });
      const failed = eventsOf(events, names.scope, 'rotation:failed');
      expect(failed.map((e) => e.payload.reason)).toEqual([reason]);
    },
  );

  it('names an error without a code by its class', async () => {
    const { rotator: r } = rotator(
      {},
      {
        apply: () => {
          throw new TypeError(`bad ${CANARY}`);
        },
      },
    );
    const { scheduler, names } = await setup(r);

    const outcome = await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(outcome).toMatchObject({ status: 'failed', reason: 'apply failed: TypeError' });
  });

  it('retries a step that fails once, then completes', async () => {
    const { rotator: r, calls } = rotator({ create: 1, apply: 1, test: 1, finish: 1 });
    const { scheduler, names } = await setup(r);

    const outcome = await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(outcome.status).toBe('completed');
    expect(calls).toEqual([
      'create#1',
      'create#2',
      'apply#1',
      'apply#2',
      'test#1',
      'test#2',
      'finish#1',
      'finish#2',
    ]);
  });

  it('puts the provider in maintenance around apply when the rotator asks', async () => {
    const log: string[] = [];
    const hooks: RotatorHooks = {
      enterMaintenance: async (provider, service, until) => {
        log.push(`enter ${provider}/${service} ${until.getTime() - Date.now() > 100_000}`);
      },
      exitMaintenance: async (provider, service) => {
        log.push(`exit ${provider}/${service}`);
      },
    };
    const maintenance = { provider: 'stripe', service: 'payment', downtimeSeconds: 120 };
    const { rotator: r, calls } = rotator({}, { maintenance });
    const logged = {
      ...r,
      apply: (c: Parameters<Rotator['apply']>[0]) => {
        log.push('apply');
        calls.push(`apply#${c.attempt}`);
      },
    };
    const { scheduler, names } = await setup(logged, hooks);

    await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(log).toEqual(['enter stripe/payment true', 'apply', 'exit stripe/payment']);
  });

  it('leaves the hooks alone when the rotator needs no maintenance', async () => {
    const log: string[] = [];
    const hooks: RotatorHooks = {
      enterMaintenance: async () => void log.push('enter'),
      exitMaintenance: async () => void log.push('exit'),
    };
    const { scheduler, names } = await setup(rotator().rotator, hooks);

    await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(log).toEqual([]);
  });

  it('fails the rotation before apply when maintenance cannot start', async () => {
    const hooks: RotatorHooks = {
      enterMaintenance: async () => {
        throw providerError();
      },
      exitMaintenance: async () => {},
    };
    const maintenance = { provider: 'stripe', service: 'payment', downtimeSeconds: 60 };
    const { rotator: r, calls } = rotator({}, { maintenance });
    const { scheduler, names } = await setup(r, hooks);

    const outcome = await scheduler.rotateNow({ ...names, actor: 'ops-bot' });

    expect(outcome).toEqual({
      status: 'failed',
      step: 'maintenance',
      reason: 'maintenance failed: EPROVIDER',
    });
    expect(calls).toEqual(['create#1']);
  });

  it('refuses rotateNow on a scope without a rotator, starting nothing', async () => {
    const { scheduler, secrets } = await setup(rotator().rotator);
    const other = await newSecret(secrets);
    const names = { scope: other.scope, keyName: other.keyName };

    const error = await scheduler
      .rotateNow({ ...names, actor: 'ops-bot' })
      .catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('scope');
    expect(await secrets.history(names)).toEqual([]);
  });
});
