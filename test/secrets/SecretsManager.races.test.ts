import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import {
  fingerprint,
  isRotationInProgressError,
  isRotationNotOpenError,
  SecretsManager,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { auditActions, eventsOf, newSecret, recordEvents, SECRETS_EVENTS } from './support.js';

describe.each(backends)('SecretsManager races on %s', (backend) => {
  const database = useDatabase(backend, 25);

  it('completes a rotation exactly once when 50 completeRotation calls race', async () => {
    const { store } = database();
    const secrets = new SecretsManager({ store });
    const events = recordEvents(secrets, SECRETS_EVENTS);
    const { id, scope, keyName } = await newSecret(secrets);
    const { rotationId } = await secrets.startRotation({
      scope,
      keyName,
      rotationType: 'emergency',
      actor: 'alice',
    });

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        secrets.completeRotation(rotationId, {
          version: `v-${i}`,
          fingerprint: fingerprint(`key-${i}`),
          affectedServices: ['api'],
          downtimeSeconds: 0,
        }),
      ),
    );

    const winner = results.findIndex((r) => r.status === 'fulfilled');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(losers).toHaveLength(49);
    expect(losers.every(isRotationNotOpenError)).toBe(true);
    const history = await secrets.history({ scope, keyName });
    expect(history).toEqual([
      expect.objectContaining({
        id: rotationId,
        status: 'completed',
        new_version: `v-${winner}`,
        new_fingerprint: fingerprint(`key-${winner}`),
      }),
    ]);
    expect(await auditActions(store, rotationId)).toEqual([
      'secret_rotation.start',
      'secret_rotation.complete',
    ]);
    const [row] = await store.query<{ current_version: string }>(
      sql`select current_version from m28.secrets_config where id = ${id}::uuid`,
    );
    expect(row!.current_version).toBe(`v-${winner}`);
    expect(eventsOf(events, scope, 'rotation:completed')).toHaveLength(1);
  });

  it('opens one rotation when 20 startRotation calls race', async () => {
    const { store } = database();
    const secrets = new SecretsManager({ store });
    const events = recordEvents(secrets, SECRETS_EVENTS);
    const { id, scope, keyName } = await newSecret(secrets);

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        secrets.startRotation({
          scope,
          keyName,
          rotationType: 'emergency',
          actor: `operator_${i}`,
        }),
      ),
    );

    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(started).toHaveLength(1);
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(losers).toHaveLength(19);
    expect(losers.every(isRotationInProgressError)).toBe(true);
    expect(await secrets.history({ scope, keyName })).toEqual([
      expect.objectContaining({ id: started[0]!.rotationId, status: 'in_progress' }),
    ]);
    const [starts] = await store.query<{ n: number }>(sql`
      select count(*)::int as n from m28.audit_log
      where action = 'secret_rotation.start' and meta->>'secret_config_id' = ${id}`);
    expect(starts!.n).toBe(1);
    expect(eventsOf(events, scope, 'rotation:started')).toHaveLength(1);
  });
});
