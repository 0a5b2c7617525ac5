import { describe, expect, it } from 'vitest';

import {
  fingerprint,
  NoPreviousVersionError,
  RotationNotDueError,
  SecretsManager,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { eventsOf, newSecret, recordEvents, SECRETS_EVENTS } from './support.js';

const complete = (version: string) => ({
  version,
  fingerprint: fingerprint(`key-${version}`),
  affectedServices: ['api_service'],
  downtimeSeconds: 0,
});

describe.each(backends)('SecretsManager events on %s', (backend) => {
  const database = useDatabase(backend);
  const manager = () => new SecretsManager({ store: database().store });

  it('emits each rotation event once, with the secret and no value', async () => {
    const secrets = manager();
    const events = recordEvents(secrets, SECRETS_EVENTS);
    const { scope, keyName } = await newSecret(secrets);
    const names = { scope, keyName };
    const start = { ...names, rotationType: 'emergency' as const, actor: 'alice' };

    const first = await secrets.startRotation(start);
    await secrets.completeRotation(first.rotationId, complete('v1'));
    const second = await secrets.startRotation(start);
    await secrets.completeRotation(second.rotationId, complete('v2'));
    const failed = await secrets.startRotation(start);
    await secrets.failRotation(failed.rotationId, { reason: 'timeout', actor: 'bob' });
    const cancelled = await secrets.startRotation(start);
    await secrets.cancelRotation(cancelled.rotationId, { reason: 'mistake', actor: 'bob' });
    const rollback = await secrets.rollback({ ...names, reason: 'bad', actor: 'carol' });

    expect(eventsOf(events, scope).map((e) => e.name)).toEqual([
      'secret:registered',
      'rotation:started',
      'rotation:completed',
      'rotation:started',
      'rotation:completed',
      'rotation:started',
      'rotation:failed',
      'rotation:started',
      'rotation:cancelled',
      'rotation:rolled_back',
    ]);
    const ref = (rotationId: string) => ({ rotationId, scope, keyName });
    expect(eventsOf(events, scope, 'rotation:completed')[1]!.payload).toEqual({
      ...ref(second.rotationId),
      version: 'v2',
      fingerprint: fingerprint('key-v2'),
    });
    expect(eventsOf(events, scope, 'rotation:failed')[0]!.payload).toEqual({
      ...ref(failed.rotationId),
      reason: 'timeout',
      actor: 'bob',
    });
    expect(eventsOf(events, scope, 'rotation:cancelled')[0]!.payload).toEqual({
      ...ref(cancelled.rotationId),
      reason: 'mistake',
      actor: 'bob',
    });
    expect(eventsOf(events, scope, 'rotation:rolled_back')[0]!.payload).toEqual({
      ...ref(rollback.rotationId),
      actor: 'carol',
    });
    expect(eventsOf(events, scope, 'rotation:started')[0]!.payload).toEqual({
      ...ref(first.rotationId),
      rotationType: 'emergency',
      actor: 'alice',
    });
  });

  it('emits nothing when a call is refused', async () => {
    const secrets = manager();
    const { scope, keyName } = await newSecret(secrets);
    const events = recordEvents(secrets, SECRETS_EVENTS);

    await expect(
      secrets.startRotation({ scope, keyName, rotationType: 'manual', actor: 'alice' }),
    ).rejects.toBeInstanceOf(RotationNotDueError);
    await expect(
      secrets.rollback({ scope, keyName, reason: 'r', actor: 'a' }),
    ).rejects.toBeInstanceOf(NoPreviousVersionError);

    expect(events).toEqual([]);
  });
});
