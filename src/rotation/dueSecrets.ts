import { sql } from 'drizzle-orm';

import type { M28Store } from '../store/M28Store.js';

/** A secret as a scan reads it, with the database's clock. @internal */
export interface DueRow {
  scope: string;
  key_name: string;
  next_rotation_at: string | Date;
  now: string | Date;
}

/**
 * Active secrets whose rotation date is at most `horizonSeconds` away or past, soonest first.
 * The partial index `secrets_config_due_idx` serves it.
 * @internal
 */
export function activeDue(store: M28Store, horizonSeconds: number): Promise<DueRow[]> {
  return store.withRole('m28_system', (tx) =>
    store.query<DueRow>(
      sql`select scope, key_name, next_rotation_at, now() as now from m28.secrets_config
        where status = 'active' and next_rotation_at is not null
          and next_rotation_at <= now() + make_interval(secs => ${horizonSeconds})
        order by next_rotation_at`,
      tx,
    ),
  );
}

/**
 * Secrets with a rotation open that are past their rotation date: an open rotation does not
 * make a late secret rotated. The partial index `secrets_config_rotating_idx` serves it.
 * @internal
 */
export function rotatingLate(store: M28Store): Promise<DueRow[]> {
  return store.withRole('m28_system', (tx) =>
    store.query<DueRow>(
      sql`select scope, key_name, next_rotation_at, now() as now from m28.secrets_config
        where status = 'rotating' and next_rotation_at is not null
          and next_rotation_at <= now()
        order by next_rotation_at`,
      tx,
    ),
  );
}
