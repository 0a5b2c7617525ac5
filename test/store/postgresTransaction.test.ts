import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  CONNECTION_LOSS_GRACE_MS,
  isConnectionLost,
  postgresTransaction,
} from '../../src/store/postgresTransaction.js';
import type { M28Database } from '../../src/store/M28Store.js';

const lost = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });

describe('isConnectionLost', () => {
  it.each([['CONNECTION_CLOSED'], ['CONNECTION_ENDED'], ['ECONNRESET'], ['57P01'], ['08006']])(
    'says %s is a lost connection',
    (code) => {
      expect(isConnectionLost(Object.assign(new Error('x'), { code }))).toBe(true);
    },
  );

  it('looks through the errors that wrap the driver’s, as Drizzle’s do', () => {
    const wrapped = new Error('Failed query: select 1', { cause: lost });

    expect(isConnectionLost(new Error('outer', { cause: wrapped }))).toBe(true);
  });

  it.each([['23505'], ['57014'], ['M2801'], [undefined]])('says %s is not', (code) => {
    expect(isConnectionLost(Object.assign(new Error('x'), { code }))).toBe(false);
    expect(isConnectionLost(undefined)).toBe(false);
  });
});

/**
 * Stands in for postgres.js's `sql.begin` as Drizzle calls it: it runs the work, sends
 * ROLLBACK when the work rejects, and rejects by itself when `close()` ends the connection.
 */
function beginLike() {
  const sent: string[] = [];
  let close: (error: Error) => void = () => {};
  const db = {
    transaction: (work: (tx: unknown) => Promise<unknown>) =>
      Promise.race([
        work({}).then(
          (value) => (sent.push('commit'), value),
          (error: unknown) => {
            sent.push('rollback');
            throw error;
          },
        ),
        new Promise((_, reject) => (close = reject)),
      ]),
  } as unknown as M28Database;

  return { db, sent, close: (error: Error) => close(error) };
}

describe('postgresTransaction', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('commits what the work returns', async () => {
    const driver = beginLike();

    await expect(postgresTransaction(driver.db)(async () => 7)).resolves.toBe(7);
    expect(driver.sent).toEqual(['commit']);
  });

  it('rolls back at once on an error that is not a lost connection', async () => {
    const driver = beginLike();
    const failure = Object.assign(new Error('duplicate'), { code: '23505' });

    await expect(
      postgresTransaction(driver.db)(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(driver.sent).toEqual(['rollback']);
  });

  it('sends nothing on a lost connection; the driver’s own rejection ends the call', async () => {
    const driver = beginLike();
    const outcome = postgresTransaction(driver.db)(async () => {
      queueMicrotask(() => driver.close(lost));
      throw lost;
    }).catch((error: unknown) => error);

    await expect(outcome).resolves.toBe(lost);
    await vi.advanceTimersByTimeAsync(CONNECTION_LOSS_GRACE_MS * 2);
    expect(driver.sent).toEqual([]);
  });

  it('rolls back after the grace period when the connection evidently still stands', async () => {
    const driver = beginLike();
    const outcome = postgresTransaction(driver.db)(async () => {
      throw lost;
    }).catch((error: unknown) => error);

    await vi.advanceTimersByTimeAsync(CONNECTION_LOSS_GRACE_MS - 1);
    expect(driver.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toBe(lost);
    expect(driver.sent).toEqual(['rollback']);
  });
});
