import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, inject, it, vi } from 'vitest';

import {
  createOps,
  isM28Error,
  isProviderDisabledError,
  isValidationError,
  type OpsEvents,
} from '../src/index.js';
import { backends, useDatabase, type TestDatabase } from './support/databases.js';
import { uniqueProvider, useOps } from './store/sink-support.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/ops-exit.ts', import.meta.url));

interface HostRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the host's report, written after close(), to its exit. */
  msToExit: number;
}

/** Runs the fixture host, killing it after `limitMs`. */
function runHost(env: Record<string, string>, limitMs: number) {
  return new Promise<HostRun>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let reportedAt = Number.NaN;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      reportedAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, msToExit: performance.now() - reportedAt });
    });
  });
}

function hostEnv(database: TestDatabase): Record<string, string> {
  return database.url
    ? { M28_TEST_URL: database.url }
    : { M28_PGLITE_TEMPLATE: inject('pgliteTemplate') };
}

describe('createOps', () => {
  it("refuses a providers key that is not 'provider/service'", () => {
    const error = (() => {
      try {
        createOps({ providers: { stripe: {} } });
      } catch (caught) {
        return caught;
      }
    })();

    expect(isValidationError(error)).toBe(true);
    expect(error).toMatchObject({ field: 'providers.stripe' });
    expect(() => createOps({ providers: { '/payment': {} } })).toThrow(/providers\.\/payment/);
  });

  it('refuses a flush interval, buffer bound or poll interval out of range', () => {
    for (const [option, value] of [
      ['flushIntervalMs', 0],
      ['maxBufferedEvents', -1],
      ['pollIntervalMs', 1.5],
      ['storeTimeoutMs', Number.NaN],
    ] as const) {
      const store = {} as never;

      expect(() => createOps({ store, [option]: value })).toThrow(
        expect.objectContaining({ code: 'M28_VALIDATION', field: option }),
      );
    }
  });

  it('refuses a zero check interval, timeout, concurrency or window instead of defaulting', () => {
    const options = ['intervalMs', 'checkTimeoutMs', 'maxConcurrentChecks', 'successRateWindowMs'];
    for (const option of options) {
      expect(() => createOps({ [option]: 0 })).toThrow(
        expect.objectContaining({ code: 'M28_VALIDATION', field: option }),
      );
    }
  });

  it('runs in memory without a store', async () => {
    const ops = createOps({ providers: { 'stripe/payment': {} } });
    await ops.start();

    expect(await ops.fire('stripe', 'payment', () => 'charged')).toBe('charged');
    expect(ops.sink).toBeUndefined();
    await ops.close();
  });
});

describe.each(backends)('M28Ops on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();

  it('starts and closes once, however often it is asked', async () => {
    const { store } = database();
    const provider = uniqueProvider('idem');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} }, migrate: true });

    const starts = [ops.start(), ops.start()];
    expect(starts[0]).toBe(starts[1]);
    await Promise.all(starts);
    await ops.start();
    const closes = [ops.close(), ops.close()];
    expect(closes[0]).toBe(closes[1]);
    await Promise.all(closes);
    await ops.close();

    const error = await ops.start().catch((e: unknown) => e);
    expect(isM28Error(error) && error.code).toBe('M28_CLOSED');
  });

  it('can be started again after a start that failed', async () => {
    const { store } = database();
    const provider = uniqueProvider('restart');
    const ops = openOps({ store, providers: { [`${provider}/api`]: {} } });
    vi.spyOn(store, 'withRole').mockRejectedValueOnce(new Error('the database is starting up'));

    await expect(ops.start()).rejects.toThrow('the database is starting up');
    await ops.start();

    expect(await ops.fire(provider, 'api', () => 'ok')).toBe('ok');
    await ops.close();
    expect(ops.sink?.stats.flushes).toBe(1);
  });

  it('emits the events of every part on one stream', async () => {
    const { store } = database();
    const provider = uniqueProvider('stream');
    const ops = openOps({
      store,
      providers: { [`${provider}/api`]: { failureThreshold: 1, resetTimeoutMs: 60_000 } },
      flushIntervalMs: 50,
    });
    const seen: (keyof OpsEvents)[] = [];
    for (const name of [
      'breaker:open',
      'provider:status',
      'provider:toggle',
      'store:flushed',
    ] as const) {
      ops.on(name, () => seen.push(name));
    }
    await ops.start();

    await ops.fire(provider, 'api', () => Promise.reject(new Error('down'))).catch(() => 0);
    await ops.toggle({
      provider,
      service: 'api',
      enabled: false,
      reason: 'incident 42',
      actor: 'oncall@example.com',
    });
    const refused = await ops.fire(provider, 'api', () => 'ok').catch((e: unknown) => e);

    expect(isProviderDisabledError(refused)).toBe(true);
    await expect.poll(() => seen.includes('store:flushed')).toBe(true);
    expect(new Set(seen)).toEqual(
      new Set(['breaker:open', 'provider:status', 'provider:toggle', 'store:flushed']),
    );
    expect(ops.health({ provider }).providers[0]).toMatchObject({
      status: 'disabled',
      enabled: false,
      circuit_breaker_state: 'open',
    });
  });

  // The host's start-up (tsx, PGlite) is slow on a busy machine; its exit after close() is not.
  it('lets the host process exit by itself after close()', { timeout: 40_000 }, async () => {
    const result = await runHost(hostEnv(database()), 30_000);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ liveTimers: [] });
    expect(result.msToExit).toBeLessThan(5000);
  });
});
