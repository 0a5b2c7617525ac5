import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

import { M28_ROLES, type M28Role } from '../domain/vocabularies.js';
import { ValidationError } from '../errors/ValidationError.js';
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js';
import type { TransactionRunner } from './postgresTransaction.js';
import { translateDatabaseError } from './sqlstate.js';

/**
 * Any Drizzle PostgreSQL database or transaction: postgres.js, PGlite, node-postgres, or the
 * host's own. The store needs no schema registered on it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type M28Database = PgDatabase<PgQueryResultHKT, any>;

/** How the store reached its database. */
export type StoreDriver = 'postgres' | 'pglite' | 'drizzle';

/** What a store needs to be built: a database, and how to release it. */
export interface M28StoreOptions {
  /** The Drizzle database every query goes through. */
  readonly db: M28Database;
  /** Which driver `db` runs on; `drizzle` for a database the host passed in. */
  readonly driver: StoreDriver;
  /** Releases what the store opened. Not called for a host's own database. */
  readonly release?: () => Promise<void>;
  /** Runs a transaction; Drizzle's `db.transaction` when left out. */
  readonly transaction?: TransactionRunner;
}

/** Rows of a raw query, whichever driver ran it. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) {
    return result as T[];
  }

  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * The persistence port over the M28 tables. Every query runs through Drizzle, so the store
 * works on postgres.js, PGlite and any Drizzle PostgreSQL database a host already has.
 *
 * Build one with {@link connectStore}, {@link connectPostgres}, {@link connectPglite} or
 * {@link fromDrizzle}.
 */
export class M28Store {
  /** The Drizzle database the store queries. */
  readonly db: M28Database;
  /** Which driver the store runs on. */
  readonly driver: StoreDriver;

  readonly #release: (() => Promise<void>) | undefined;
  readonly #transaction: TransactionRunner;
  #closed: Promise<void> | undefined;

  constructor(options: M28StoreOptions) {
    this.db = options.db;
    this.driver = options.driver;
    this.#release = options.release;
    this.#transaction = options.transaction ?? ((work) => this.db.transaction(work));
  }

  /**
   * Applies every pending M28 migration. Idempotent, and safe when several processes migrate
   * at once.
   * @throws {@link SchemaTooNewError} when the database is ahead of this package.
   */
  migrate(options?: MigrateOptions): Promise<MigrateResult> {
    return migrate(this.db, options, this.#transaction);
  }

  /**
   * Runs a query and returns its rows. Database errors are translated by SQLSTATE.
   * @throws {@link M28Error} subclasses, never the driver's own error.
   */
  async query<T = Record<string, unknown>>(query: SQL, db: M28Database = this.db): Promise<T[]> {
    try {
      return rowsOf<T>(await db.execute(query));
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /**
   * Runs `work` in one transaction under `SET LOCAL ROLE role`, so PostgreSQL's row-level
   * security decides what it may see and change. The role ends with the transaction, so a
   * pooled connection never keeps it.
   * @throws {@link ValidationError} when `role` is not an M28 role.
   */
  async withRole<T>(role: M28Role, work: (tx: M28Database) => Promise<T>): Promise<T> {
    if (!(M28_ROLES as readonly string[]).includes(role)) {
      throw new ValidationError([
        { field: 'role', rule: `must be one of ${M28_ROLES.join(', ')}`, received: '[redacted]' },
      ]);
    }

    try {
      return await this.#transaction(async (tx) => {
        // The role name is one of the fixed M28_ROLES, checked above.
        await tx.execute(sql.raw(`set local role ${role}`));

        return work(tx);
      });
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /**
   * Subscribes to a PostgreSQL NOTIFY channel. Resolves to an unsubscribe function, or to
   * `undefined` when the driver cannot listen (a host's node-postgres pool, say); callers
   * then poll. postgres.js subscribes again by itself after a reconnect.
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
  ): Promise<(() => Promise<void>) | undefined> {
    const client = (this.db as unknown as { $client?: unknown }).$client as
      { listen?: (channel: string, fn: (payload: string) => void) => Promise<unknown> } | undefined;
    if (this.driver === 'drizzle' || typeof client?.listen !== 'function') {
      return undefined;
    }

    const subscription = await client.listen(channel, onPayload);
    if (typeof subscription === 'function') {
      return subscription as () => Promise<void>;
    }

    const { unlisten } = subscription as { unlisten: () => Promise<void> };

    return () => unlisten();
  }

  /** Releases the connection or embedded database the store opened. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#release ? this.#release() : Promise.resolve();

    return this.#closed;
  }
}
