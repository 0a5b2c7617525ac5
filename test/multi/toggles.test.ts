/**
 * Many instances, one database: a toggle made through one instance's admin API, or through
 * plain SQL, reaches every instance within a second over LISTEN/NOTIFY, and within the poll
 * interval when notifications are cut. Each instance is a process of its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { connectPostgres, type M28Store } from '../../src/index.js';
import { createDatabase, useChildren, type Child } from './children.js';

const INSTANCES = 4;
const POLL_MS = 300;
const hasPsql = spawnSync('psql', ['--version']).status === 0;

/** The state an instance reported last: open, blocked or failing. */
const stateOf = (child: Child) =>
  [...child.messages].reverse().find((m) => m.event === 'state' || m.event === 'ready')?.state;

function runPsql(url: string, statement: string) {
  const target = new URL(url);
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', target.hostname];
  args.push('-p', target.port || '5432', '-U', decodeURIComponent(target.username || 'postgres'));
  args.push('-d', target.pathname.slice(1), '-c', statement);
  const password = target.password ? { PGPASSWORD: decodeURIComponent(target.password) } : {};

  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const psql = spawn('psql', args, {
      env: { ...process.env, ...password },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    psql.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    psql.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    psql.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe.runIf(process.env.DATABASE_URL)(
  `toggles across ${INSTANCES} processes (needs PostgreSQL: PGlite has one connection)`,
  () => {
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    let store: M28Store;
    beforeAll(async () => {
      database = await createDatabase(inject('postgresTemplate'));
      store = await connectPostgres(database.url, { max: 2 });
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    // Registered after the database's hooks, so that it runs before them.
    const spawnChild = useChildren();
    const adminToken = randomUUID();

    /** Starts the instances; the first serves the admin API when `admin` is set. */
    async function startInstances(label: string, env: Record<string, string>, admin = false) {
      const instances = Array.from({ length: INSTANCES }, (_, i) =>
        spawnChild('multi-toggle-instance.ts', `${label}-${i}`, {
          M28_URL: database!.url,
          ...env,
          ...(admin && i === 0 ? { M28_ADMIN: '1', M28_ADMIN_TOKEN: adminToken } : {}),
        }),
      );
      const ready = await Promise.all(
        instances.map((child) => child.waitFor((m) => m.event === 'ready', 25_000)),
      );

      return { instances, port: ready[0]!.port as number };
    }

    async function stopInstances(instances: readonly Child[]) {
      instances.forEach((child) => child.send({ cmd: 'stop' }));
      return Promise.all(instances.map((child) => child.exited));
    }

    function toggleBySql(enabled: boolean) {
      return store.query(sql`select m28.toggle_provider(
        'stripe', 'payment', ${enabled}, 'multi-instance test', 'dba@example.com')`);
    }

    /** Enables stripe/payment and waits until every instance's calls go through. */
    async function enableEverywhere(instances: readonly Child[]) {
      const marks = instances.map((child) => child.messages.length);
      await toggleBySql(true);
      await Promise.all(
        instances.map((child, i) =>
          stateOf(child) === 'open'
            ? undefined
            : child.waitFor((m) => m.event === 'state' && m.state === 'open', 5000, marks[i]),
        ),
      );
    }

    /**
     * Milliseconds from the toggle's commit (taken as the moment its caller heard back) to the
     * last instance refusing calls, and from the moment the toggle was sent.
     */
    async function msToLastBlocked(instances: readonly Child[], toggle: () => Promise<void>) {
      const marks = instances.map((child) => child.messages.length);
      const sentAt = Date.now();
      await toggle();
      const committedAt = Date.now();
      const blocked = await Promise.all(
        instances.map((child, i) =>
          child.waitFor((m) => m.event === 'state' && m.state === 'blocked', 5000, marks[i]),
        ),
      );
      const failing = instances.flatMap((child) =>
        child.messages.filter((m) => m.event === 'state' && m.state === 'failing'),
      );
      expect(failing).toEqual([]);

      const lastAt = Math.max(...blocked.map((m) => m.at as number));

      return { ms: lastAt - committedAt, fromSent: lastAt - sentAt };
    }

    const latencyText = (how: string, { ms, fromSent }: { ms: number; fromSent: number }) =>
      `${how}: commit -> last instance blocked ${ms} ms (${fromSent} ms from sending it)`;

    const errorsOf = (instances: readonly Child[]) =>
      instances.flatMap((child) => child.messages.filter((m) => m.event === 'error'));

    describe('with LISTEN/NOTIFY', () => {
      let instances: Child[] = [];
      let port = 0;
      beforeAll(async () => {
        ({ instances, port } = await startInstances('notify', {}, true));
      }, 40_000);
      afterAll(() => stopInstances(instances));

      it('(a) an admin API toggle on one instance blocks all within a second', async (t) => {
        expect(instances.map(stateOf)).toEqual(Array(INSTANCES).fill('open'));
        let answer: Response | undefined;

        const latency = await msToLastBlocked(instances, async () => {
          answer = await fetch(`http://127.0.0.1:${port}/admin/providers/toggle`, {
            method: 'POST',
            headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              provider_name: 'stripe',
              service_type: 'payment',
              enabled: false,
              reason: 'incident 42',
            }),
          });
        });

        expect(answer?.status).toBe(200);
        expect(await answer?.json()).toMatchObject({ enabled: false, status: 'disabled' });
        await t.annotate(latencyText('admin API toggle', latency));
        expect(latency.ms, latencyText('admin API toggle', latency)).toBeLessThanOrEqual(1000);
      });

      it.runIf(hasPsql)('(b) a psql toggle blocks all within a second (needs psql)', async (t) => {
        await enableEverywhere(instances);

        const latency = await msToLastBlocked(instances, async () => {
          const psql = await runPsql(
            database!.url,
            `select m28.toggle_provider('stripe', 'payment', false, 'incident 43', 'dba')`,
          );
          expect(psql).toEqual({ code: 0, stderr: '' });
        });

        await t.annotate(latencyText('psql toggle', latency));
        expect(latency.ms, latencyText('psql toggle', latency)).toBeLessThanOrEqual(1000);
      });

      it('re-enables everywhere, reports no errors and stops when told', async () => {
        await enableEverywhere(instances);
        expect(instances.map(stateOf)).toEqual(Array(INSTANCES).fill('open'));

        const exits = await stopInstances(instances);

        expect(exits.map((exit) => exit.code)).toEqual(Array(INSTANCES).fill(0));
        expect(exits.map((exit) => exit.stderr)).toEqual(Array(INSTANCES).fill(''));
        expect(errorsOf(instances)).toEqual([]);
      });
    });

    describe('with notifications cut', () => {
      let instances: Child[] = [];
      beforeAll(async () => {
        await toggleBySql(true);
        ({ instances } = await startInstances('poll', {
          M28_NOTIFY: 'off',
          M28_POLL_MS: String(POLL_MS),
        }));
      }, 40_000);
      afterAll(() => stopInstances(instances));

      it(`(c) the ${POLL_MS} ms poll of every instance catches a SQL toggle`, async (t) => {
        expect(instances.map(stateOf)).toEqual(Array(INSTANCES).fill('open'));

        const latency = await msToLastBlocked(instances, async () => {
          await toggleBySql(false);
        });

        await t.annotate(latencyText('polled toggle', latency));
        expect(latency.ms, latencyText('polled toggle', latency)).toBeLessThanOrEqual(
          POLL_MS + 300,
        );

        const exits = await stopInstances(instances);
        expect(exits.map((exit) => exit.code)).toEqual(Array(INSTANCES).fill(0));
        expect(errorsOf(instances)).toEqual([]);
      });
    });
  },
);
