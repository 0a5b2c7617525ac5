import { createHash, createHmac } from 'node:crypto';

import { ValidationError } from '../errors/ValidationError.js';

/** A fingerprint: `sha256:` or `hmac-sha256:` followed by 64 lowercase hex digits. */
export type Fingerprint = `sha256:${string}` | `hmac-sha256:${string}`;

const FINGERPRINT = /^(sha256|hmac-sha256):[0-9a-f]{64}$/;

/** Options of {@link fingerprint}. */
export interface FingerprintOptions {
  /**
   * A key of the host's (never stored by m28-ops). With one, the fingerprint is an
   * HMAC-SHA256, which cannot be brute-forced from the fingerprint alone.
   */
  readonly hmacKey?: string | Uint8Array;
}

const isBytes = (value: unknown): value is string | Uint8Array =>
  typeof value === 'string' || value instanceof Uint8Array;

/**
 * Fingerprints a secret so that its version can be tracked without keeping it: `sha256:<hex>`,
 * or `hmac-sha256:<hex>` with `hmacKey`.
 *
 * Use the HMAC form for low-entropy secrets such as passwords: a plain SHA-256 of a password
 * can be reversed by hashing guesses, and anyone who reads the audit log could try; without
 * the HMAC key, they cannot.
 *
 * @throws {@link ValidationError} for an empty secret or key, or one that is neither a string
 *   nor bytes. The value is never echoed.
 *
 * @example
 * ```ts
 * fingerprint('abc'); // 'sha256:ba7816bf…'
 * fingerprint(password, { hmacKey: process.env.FINGERPRINT_KEY });
 * ```
 */
export function fingerprint(
  secret: string | Uint8Array,
  options: FingerprintOptions = {},
): Fingerprint {
  // node:crypto's own type error would print the value it received.
  if (!isBytes(secret)) {
    throw new ValidationError([
      { field: 'secret', rule: 'must be a string or a Uint8Array', received: '[redacted]' },
    ]);
  }

  if (secret.length === 0) {
    throw new ValidationError([
      { field: 'secret', rule: 'must not be empty', received: '[redacted]' },
    ]);
  }

  if (options.hmacKey !== undefined) {
    if (!isBytes(options.hmacKey) || options.hmacKey.length === 0) {
      throw new ValidationError([
        {
          field: 'hmacKey',
          rule: 'must be a non-empty string or Uint8Array',
          received: '[redacted]',
        },
      ]);
    }
    const digest = createHmac('sha256', options.hmacKey).update(secret).digest('hex');

    return `hmac-sha256:${digest}` as Fingerprint;
  }

  return `sha256:${createHash('sha256').update(secret).digest('hex')}` as Fingerprint;
}

/** True when `value` has the form of a fingerprint. */
export function isFingerprint(value: unknown): value is Fingerprint {
  return typeof value === 'string' && FINGERPRINT.test(value);
}
