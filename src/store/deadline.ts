import { M28Error } from '../errors/M28Error.js';

/** Code of the error a background store operation fails with when it outlives its deadline. */
export const STORE_TIMEOUT_CODE = 'M28_STORE_TIMEOUT';

/**
 * Settles like `work`, or rejects with an `M28_STORE_TIMEOUT` error after `timeoutMs`. A hung
 * connection must not stall a background loop, nor `close()`, for ever; `work` itself is left
 * to finish or fail on its own.
 * @internal
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new M28Error(STORE_TIMEOUT_CODE, `${what} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref?.();
  });

  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** The error as an `Error`, for `error` events. @internal */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
