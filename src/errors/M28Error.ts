const brand = Symbol.for('m28-ops.error');

/**
 * Base class of every error m28-ops throws. Each subclass has a stable `code`; match on it,
 * or use the `isXError()` guards, which also work across two copies of the package.
 *
 * Messages and context never hold a secret value.
 */
export class M28Error extends Error {
  /** Stable, machine-readable identifier of the error kind. */
  readonly code: string;

  /** @internal */
  readonly [brand] = true;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** True when `error` is an {@link M28Error} from any copy of m28-ops. */
export function isM28Error(error: unknown): error is M28Error {
  return typeof error === 'object' && error !== null && brand in error;
}

/**
 * Builds a type guard for an error class that works across package copies: it compares the
 * `code`, not the prototype.
 * @internal
 */
export function guardFor<T extends M28Error>(code: string) {
  return (error: unknown): error is T => isM28Error(error) && error.code === code;
}
