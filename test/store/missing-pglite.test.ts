import { describe, expect, it, vi } from 'vitest';

import { connectPglite, isMissingPeerDependencyError } from '../../src/index.js';

// As if the host never installed the optional peer dependency.
vi.mock('@electric-sql/pglite', () => {
  throw Object.assign(new Error("Cannot find package '@electric-sql/pglite'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

describe('connectPglite without @electric-sql/pglite', () => {
  it('fails with an error that names the package to install', async () => {
    const error = await connectPglite().catch((e: unknown) => e);

    expect(isMissingPeerDependencyError(error)).toBe(true);
    expect((error as Error).message).toContain('npm install @electric-sql/pglite');
    expect((error as { packageName: string }).packageName).toBe('@electric-sql/pglite');
  });
});
