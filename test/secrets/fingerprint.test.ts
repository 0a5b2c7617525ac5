import { describe, expect, it } from 'vitest';

import { fingerprint, isFingerprint, ValidationError } from '../../src/index.js';

const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const CANARY = 'sk_live_CANARY_7f3e9a';

/** The error `run` throws; fails the test when it returns. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('fingerprint', () => {
  it('hashes with SHA-256 as in the FIPS 180-2 vectors', () => {
    expect(fingerprint('abc')).toBe(`sha256:${ABC_SHA256}`);
    expect(fingerprint('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      'sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes bytes the same as the string they encode', () => {
    expect(fingerprint(new TextEncoder().encode('abc'))).toBe(`sha256:${ABC_SHA256}`);
  });

  it('computes HMAC-SHA256 as in RFC 4231 test cases 1 and 2', () => {
    expect(fingerprint('what do ya want for nothing?', { hmacKey: 'Jefe' })).toBe(
      'hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(fingerprint('Hi There', { hmacKey: new Uint8Array(20).fill(0x0b) })).toBe(
      'hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
  });

  it('gives a different fingerprint for a different HMAC key', () => {
    expect(fingerprint('abc', { hmacKey: 'one' })).not.toBe(fingerprint('abc', { hmacKey: 'two' }));
  });

  it('refuses an empty secret without echoing anything', () => {
    for (const empty of ['', new Uint8Array(0)]) {
      const error = thrownBy(() => fingerprint(empty));

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('secret');
      expect((error as ValidationError).issues[0]?.received).toBe('[redacted]');
    }
  });

  it('refuses a value that is neither a string nor bytes, without echoing it', () => {
    const error = thrownBy(() => fingerprint({ key: CANARY } as unknown as string));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('secret');
    expect(JSON.stringify(error) + String(error)).not.toContain(CANARY);
  });

  it('refuses an empty or malformed HMAC key without echoing it', () => {
    for (const hmacKey of ['', new Uint8Array(0), 42 as unknown as string]) {
      const error = thrownBy(() => fingerprint(CANARY, { hmacKey }));

      expect((error as ValidationError).field).toBe('hmacKey');
      expect(JSON.stringify(error) + String(error)).not.toContain(CANARY);
    }
  });

  it('produces values that isFingerprint accepts', () => {
    expect(isFingerprint(fingerprint(CANARY))).toBe(true);
    expect(isFingerprint(fingerprint(CANARY, { hmacKey: 'k' }))).toBe(true);
  });
});

describe('isFingerprint', () => {
  it('accepts sha256 and hmac-sha256 with 64 lowercase hex digits', () => {
    expect(isFingerprint(`sha256:${ABC_SHA256}`)).toBe(true);
    expect(isFingerprint(`hmac-sha256:${ABC_SHA256}`)).toBe(true);
  });

  it('refuses uppercase hex', () => {
    expect(isFingerprint(`sha256:${ABC_SHA256.toUpperCase()}`)).toBe(false);
    expect(isFingerprint(`SHA256:${ABC_SHA256}`)).toBe(false);
  });

  it('refuses the wrong number of hex digits', () => {
    expect(isFingerprint(`sha256:${ABC_SHA256.slice(1)}`)).toBe(false);
    expect(isFingerprint(`sha256:${ABC_SHA256}0`)).toBe(false);
    expect(isFingerprint('sha256:')).toBe(false);
  });

  it('refuses raw keys, other algorithms, padding and non-strings', () => {
    for (const value of [
      CANARY,
      ABC_SHA256,
      `md5:${ABC_SHA256}`,
      `sha256:${ABC_SHA256}\n`,
      ` sha256:${ABC_SHA256}`,
      `sha256:${ABC_SHA256.slice(0, 63)}g`,
      null,
      undefined,
      42,
      { toString: () => `sha256:${ABC_SHA256}` },
    ]) {
      expect(isFingerprint(value)).toBe(false);
    }
  });
});
