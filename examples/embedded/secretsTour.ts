import { randomBytes } from 'node:crypto';

import { sql } from 'drizzle-orm';

import { fingerprint, type M28Ops } from '../../src/index.js';

type Say = (line: string) => void;

/**
 * Registers three secrets, makes one overdue and one due soon, lets the scheduler scan, then
 * runs an emergency rotation to the end and rolls a second one back. New keys exist only in
 * this function's memory; the database sees their fingerprints.
 */
export async function secretsTour(ops: M28Ops, say: Say): Promise<void> {
  const secrets = ops.secrets!;
  const scheduler = ops.scheduler!;
  for (const [scope, keyName, keyType] of [
    ['stripe', 'secret_key', 'secret_key'],
    ['twilio', 'auth_token', 'token'],
    ['fcm', 'server_key', 'api_key'],
  ] as const) {
    await secrets.register({ scope, keyName, keyType, actor: 'demo' });
  }
  say('registered stripe/secret_key, twilio/auth_token, fcm/server_key (defaults by key type)');

  // The host is the database owner here; in production, time simply passes.
  await ops.store!.query(sql`update m28.secrets_config set next_rotation_at = case scope
      when 'twilio' then now() - interval '8 days'
      when 'fcm' then now() + interval '3 days' else next_rotation_at end`);
  scheduler.on('rotation:overdue', (e) =>
    say(
      `ALERT ${e.level}: ${e.scope}/${e.keyName} is ${Math.floor(e.lateMs / 86_400_000)} days late`,
    ),
  );
  scheduler.on('rotation:reminder', (e) =>
    say(`reminder: ${e.scope}/${e.keyName} is due in ${Math.ceil(e.dueInMs / 86_400_000)} days`),
  );
  await scheduler.scan();

  say('incident INC-4711: emergency rotation of stripe/secret_key');
  const first = await secrets.startRotation({
    scope: 'stripe',
    keyName: 'secret_key',
    rotationType: 'emergency',
    actor: 'ops@example.com',
    requestId: 'INC-4711',
  });
  const newKey = `sk_live_${randomBytes(24).toString('hex')}`;
  await secrets.completeRotation(first.rotationId, {
    version: 'v2',
    fingerprint: fingerprint(newKey),
    affectedServices: ['payment_service', 'webhook_handler'],
    downtimeSeconds: 0,
    actor: 'ops@example.com',
  });
  say(`rotated to v2, fingerprint ${fingerprint(newKey).slice(0, 23)}...`);

  const second = await secrets.startRotation({
    scope: 'stripe',
    keyName: 'secret_key',
    rotationType: 'manual',
    force: true,
    actor: 'ops@example.com',
  });
  await secrets.completeRotation(second.rotationId, {
    version: 'v3',
    fingerprint: fingerprint(`sk_live_${randomBytes(24).toString('hex')}`),
    affectedServices: ['payment_service'],
    downtimeSeconds: 4,
    actor: 'ops@example.com',
  });
  await secrets.rollback({
    scope: 'stripe',
    keyName: 'secret_key',
    reason: 'v3 rejected by the webhook handler',
    actor: 'ops@example.com',
  });
  say('rotated to v3, then rolled back to v2');

  const { secrets: rows, summary } = await secrets.status();
  say(`secrets: ${JSON.stringify(summary)}`);
  for (const row of rows) {
    process.stdout.write(
      `    ${`${row.scope}/${row.key_name}`.padEnd(20)}${row.rotation_schedule.padEnd(11)}` +
        `${row.data_classification.padEnd(14)}${(row.current_version ?? '-').padEnd(5)}` +
        `${row.rotation_status}\n`,
    );
  }
}
