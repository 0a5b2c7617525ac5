import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';

import { createOps, type M28Ops } from '../../src/index.js';
import { openDatabase, type TestDatabase } from '../support/databases.js';

interface LogRow {
  status: string;
  failure_reason: string | null;
  lease_expires_at: string | null;
}

describe.runIf(process.env.DATABASE_URL)(
  'a rotation whose process was killed (PostgreSQL: PGlite cannot share a database between ' +
    'processes)',
  () => {
    let database: TestDatabase | undefined;
    let ops: M28Ops | undefined;

    afterAll(async () => {
      await ops?.close();
      await database?.close();
    });

    it('leaves no partial rows, expires by lease, and the next attempt completes', async () => {
      database = await openDatabase('postgres');
      const { store, url } = database;
      await store.query(sql`insert into m28.secrets_config
        (scope, key_name, key_type, current_version, next_rotation_at)
        values ('stripe', 'secret_key', 'secret_key', 'v1', now() - interval '1 day')`);

      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/crash-rotator.ts'], {
        env: { ...process.env, M28_TEST_URL: url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the child never applied')), 20_000);
        lines.on('line', (line) => {
          if (line.includes('applying')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      const [secret] = await store.query<{ status: string; current_version: string }>(
        sql`select status, current_version from m28.secrets_config`,
      );
      const log = await store.query<LogRow>(
        sql`select status, failure_reason, lease_expires_at from m28.secrets_rotation_log`,
      );
      expect(secret).toEqual({ status: 'rotating', current_version: 'v1' });
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ status: 'in_progress', failure_reason: null });
      expect(log[0]?.lease_expires_at).not.toBeNull();

      const expired: string[] = [];
      ops = createOps({
        store,
        migrate: false,
        scheduler: {
          autoStart: true,
          intervalMs: 200,
          rotators: {
            stripe: {
              create: () => ({ value: 'sk_live_second_attempt', version: 'v2' }),
              apply: () => undefined,
              test: () => undefined,
            },
          },
        },
      });
      ops.on('rotation:lease_expired', (event) => expired.push(event.rotationId));
      await ops.start();

      await expect
        .poll(
          async () =>
            (
              await store.query<{ current_version: string }>(
                sql`select current_version from m28.secrets_config`,
              )
            )[0]?.current_version,
          { timeout: 10_000, interval: 100 },
        )
        .toBe('v2');
      const rotations = await store.query<{ status: string; failure_reason: string | null }>(
        sql`select status, failure_reason from m28.secrets_rotation_log order by initiated_at`,
      );
      expect(rotations).toEqual([
        { status: 'failed', failure_reason: 'lease expired: the rotating process stopped' },
        { status: 'completed', failure_reason: null },
      ]);
      expect(expired).toHaveLength(1);
    }, 40_000);
  },
);
