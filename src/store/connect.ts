import { MissingPeerDependencyError } from '../errors/MissingPeerDependencyError.js';
import { M28Store, type M28Database } from './M28Store.js';
import { postgresTransaction } from './postgresTransaction.js';
import { parseTextArray } from './textArray.js';

/** PostgreSQL's built-in `text[]`. */
const TEXT_ARRAY_OID = 1009;

/** Options for {@link connectPostgres}. */
export interface ConnectPostgresOptions {
  /**
   * Most connections the store's pool opens.
   * @defaultValue 5
   */
  readonly max?: number;
  /**
   * Name reported to PostgreSQL as `application_name`.
   * @defaultValue `'m28-ops'`
   */
  readonly applicationName?: string;
}

/** Options for {@link connectPglite}. */
export interface ConnectPgliteOptions {
  /** Directory that keeps the embedded database. In memory when left out. */
  readonly dataDir?: string | undefined;
  /** A tarball from PGlite's `dumpDataDir()` to start from, such as a migrated template. */
  readonly loadDataDir?: Blob | undefined;
}

/** Options for {@link connectStore}: a URL, an embedded database, or the host's own. */
export interface ConnectStoreOptions extends ConnectPostgresOptions, ConnectPgliteOptions {
  /** A PostgreSQL URL. When set, the store connects through postgres.js. */
  readonly url?: string | undefined;
  /** A Drizzle PostgreSQL database the host already has. Takes precedence over `url`. */
  readonly db?: M28Database | undefined;
}

/**
 * Connects to PostgreSQL at `url` through postgres.js.
 *
 * @example
 * ```ts
 * const store = await connectPostgres(process.env.DATABASE_URL!);
 * await store.migrate();
 * ```
 */
export async function connectPostgres(
  url: string,
  options: ConnectPostgresOptions = {},
): Promise<M28Store> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, {
    max: options.max ?? 5,
    onnotice: () => {},
    // postgres.js fetches array types on every new connection, and that fetch rejects
    // outside any promise when the connection dies during it. The M28 tables have one array
    // type, text[], whose OID is fixed, so the store parses it itself instead.
    fetch_types: false,
    types: {
      textArray: {
        to: TEXT_ARRAY_OID,
        from: [TEXT_ARRAY_OID],
        serialize: (value: unknown) => value,
        parse: parseTextArray,
      },
    },
    connection: { application_name: options.applicationName ?? 'm28-ops' },
  });

  const db = drizzle(client);

  return new M28Store({
    db,
    driver: 'postgres',
    release: () => client.end({ timeout: 5 }),
    transaction: postgresTransaction(db),
  });
}

/**
 * Starts an embedded PostgreSQL (PGlite) in memory or at `dataDir`. PGlite is an optional
 * peer dependency, loaded only here.
 * @throws {@link MissingPeerDependencyError} when `@electric-sql/pglite` is not installed.
 */
export async function connectPglite(options: ConnectPgliteOptions = {}): Promise<M28Store> {
  let pglite: typeof import('@electric-sql/pglite');
  try {
    pglite = await import('@electric-sql/pglite');
  } catch (error) {
    throw new MissingPeerDependencyError('@electric-sql/pglite', 'The embedded database', error);
  }

  const { drizzle } = await import('drizzle-orm/pglite');
  const client = new pglite.PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  await client.waitReady;

  return new M28Store({ db: drizzle(client), driver: 'pglite', release: () => client.close() });
}

/**
 * Wraps a Drizzle PostgreSQL database the host already has (postgres.js, node-postgres,
 * PGlite, ...). The host keeps ownership: `store.close()` leaves it open. Over postgres.js,
 * the store's transactions go through {@link postgresTransaction}, as with
 * {@link connectPostgres}.
 */
export function fromDrizzle(db: M28Database): M28Store {
  const client = (db as { $client?: Partial<Record<'begin' | 'reserve' | 'listen', unknown>> })
    .$client;
  const postgresJs =
    typeof client?.begin === 'function' &&
    typeof client.reserve === 'function' &&
    typeof client.listen === 'function';

  return new M28Store({
    db,
    driver: 'drizzle',
    ...(postgresJs ? { transaction: postgresTransaction(db) } : {}),
  });
}

/**
 * Builds a store from whatever the host has: its own Drizzle database, a URL, or nothing, in
 * which case the store runs on embedded PGlite.
 */
export async function connectStore(options: ConnectStoreOptions = {}): Promise<M28Store> {
  if (options.db) {
    return fromDrizzle(options.db);
  }
  if (options.url) {
    return connectPostgres(options.url, options);
  }

  return connectPglite(options);
}
