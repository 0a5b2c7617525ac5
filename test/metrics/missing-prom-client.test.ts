import { describe, expect, it, vi } from 'vitest';

import { createOps, isMissingPeerDependencyError } from '../../src/index.js';

// As if the host never installed the optional peer dependency.
vi.mock('prom-client', () => {
  throw Object.assign(new Error("Cannot find package 'prom-client'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

describe('M28Ops.registerPromClient without prom-client', () => {
  it('fails with an error that names the package to install', async () => {
    const ops = createOps({ providers: { 'stripe/payment': {} } });

    const error = await ops.registerPromClient().catch((e: unknown) => e);

    expect(isMissingPeerDependencyError(error)).toBe(true);
    expect((error as Error).message).toContain('npm install prom-client');
    expect((error as { packageName: string }).packageName).toBe('prom-client');
  });

  it('serves its own exposition all the same', async () => {
    const ops = createOps({ providers: { 'stripe/payment': {} } });

    expect(await ops.metrics()).toContain(
      'provider_available{provider="stripe",service="payment"} 1',
    );
  });
});
