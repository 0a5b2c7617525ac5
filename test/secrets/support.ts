import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';

import type { KeyType, M28Store, RegisterSecretInput, SecretsManager } from '../../src/index.js';

/** Shared fixtures of the SecretsManager and RotationScheduler tests. */

/** A raw provider key. It must never reach an event, an error or a table. */
export const CANARY = 'sk_live_CANARY_7f3e9a';

/** Every event SecretsManager emits. */
export const SECRETS_EVENTS = [
  'secret:registered',
  'rotation:started',
  'rotation:completed',
  'rotation:failed',
  'rotation:cancelled',
  'rotation:rolled_back',
] as const;

/** Every event RotationScheduler emits. */
export const SCHEDULER_EVENTS = [
  'rotation:due',
  'rotation:overdue',
  'rotation:reminder',
  'scheduler:scanned',
  'error',
] as const;

/** A scope of the test's own, so that tests sharing a database do not see each other. */
export const uniqueScope = (prefix = 'scope') => `${prefix}_${randomUUID().slice(0, 8)}`;

/** One event, as emitted. */
export interface Recorded {
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

/** Records every event of `names` that `emitter` emits, in order. */
export function recordEvents(emitter: object, names: readonly string[]): Recorded[] {
  const on = emitter as { on(name: string, listener: (payload: unknown) => void): unknown };
  const recorded: Recorded[] = [];
  for (const name of names) {
    on.on(name, (payload) => {
      recorded.push({ name, payload: payload as Record<string, unknown> });
    });
  }

  return recorded;
}

/** The recorded events of one scope, by name. */
export function eventsOf(recorded: Recorded[], scope: string, name?: string): Recorded[] {
  return recorded.filter(
    (event) => event.payload.scope === scope && (name === undefined || event.name === name),
  );
}

/** Registers a secret in a fresh scope and returns its names and id. */
export async function newSecret(
  secrets: SecretsManager,
  overrides: Partial<RegisterSecretInput> & { keyType?: KeyType } = {},
) {
  const input = {
    scope: uniqueScope(),
    keyName: 'signing_key',
    keyType: 'api_key' as KeyType,
    ...overrides,
  };
  const { id } = await secrets.register(input);

  return { id, scope: input.scope, keyName: input.keyName };
}

/** Moves a secret's next rotation to `now() + seconds` (negative: in the past), as superuser. */
export async function setNextRotation(store: M28Store, id: string, seconds: number) {
  await store.query(sql`update m28.secrets_config
    set next_rotation_at = now() + make_interval(secs => ${seconds}::float8)
    where id = ${id}::uuid`);
}

/** A secret's row as the superuser reads it. */
export async function secretRow(store: M28Store, id: string) {
  const [row] = await store.query<{
    status: string;
    current_version: string | null;
    current_fingerprint: string | null;
    previous_version: string | null;
    previous_fingerprint: string | null;
    last_rotated_at: string | null;
    next_rotation_at: string | null;
    rotation_schedule: string;
  }>(sql`select status::text, current_version, current_fingerprint, previous_version,
      previous_fingerprint, last_rotated_at::text, next_rotation_at::text,
      rotation_schedule::text
    from m28.secrets_config where id = ${id}::uuid`);

  return row!;
}

/** Rows of the audit log about one entity, oldest first, as the superuser reads them. */
export async function auditActions(store: M28Store, entityId: string): Promise<string[]> {
  const rows = await store.query<{ action: string }>(
    sql`select action from m28.audit_log where entity_id = ${entityId} order by id`,
  );

  return rows.map((row) => row.action);
}

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;
