import type { M28Database } from './M28Store.js';

/** Runs `work` in one transaction and resolves to what it returned. */
export type TransactionRunner = <T>(work: (tx: M28Database) => Promise<T>) => Promise<T>;

/**
 * Error codes that mean the connection itself is gone: the store's own translation, the
 * codes of postgres.js and of the socket, and PostgreSQL's `admin_shutdown`,
 * `crash_shutdown`, `cannot_connect_now` and the `connection_exception` class (`08xxx`).
 */
const CONNECTION_LOST = new Set([
  'M28_CONNECTION_LOST',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * Whether `error`, or an error it wraps (Drizzle wraps the driver's), says the connection
 * under a query is gone rather than that the query failed.
 */
export function isConnectionLost(error: unknown): boolean {
  for (let depth = 0, current = error; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_LOST.has(code) || code.startsWith('08'))) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }

  return false;
}

/**
 * How long a transaction whose connection reported itself lost waits for postgres.js to
 * settle the transaction before it lets the driver roll back after all.
 */
export const CONNECTION_LOSS_GRACE_MS = 2_000;

/**
 * A transaction runner for Drizzle over postgres.js 3.4 that never lets the driver write to
 * a connection it has dropped.
 *
 * When work inside `sql.begin` rejects, postgres.js sends `ROLLBACK` on the transaction's
 * connection, even when the rejection says the connection has closed. That write lands on a
 * socket the driver has already let go and throws from a `setImmediate`, outside every
 * promise, which ends the host's process (porsager/postgres#1154, #1208). The driver also
 * rejects the whole transaction by itself when its connection closes. So after a
 * connection-loss error the work here does not reject: it waits for that rejection, and
 * rejects only if it has not come within {@link CONNECTION_LOSS_GRACE_MS}, when the
 * connection evidently still stands and a `ROLLBACK` on it is safe.
 */
export function postgresTransaction(db: M28Database): TransactionRunner {
  return async <T>(work: (tx: M28Database) => Promise<T>): Promise<T> => {
    let settled = false;
    try {
      return await db.transaction(async (tx) => {
        try {
          return await work(tx);
        } catch (error) {
          if (!isConnectionLost(error)) {
            throw error;
          }
          await new Promise((resolve) => setTimeout(resolve, CONNECTION_LOSS_GRACE_MS).unref());
          if (settled) {
            // The driver has rejected the transaction already; a rejection here would send
            // ROLLBACK down a dead connection, or a reconnected one that another query owns.
            return new Promise<never>(() => {});
          }
          throw error;
        }
      });
    } finally {
      settled = true;
    }
  };
}
