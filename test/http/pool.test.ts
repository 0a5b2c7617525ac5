import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useDatabase } from '../support/databases.js';
import { seed, startAdminServer, type AdminServer, type Answer, type Caller } from './support.js';

const REQUESTS = 1_000;
const CONCURRENCY = 20;

interface Kind {
  readonly caller: Caller;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Throws when the answer shows a role or a row it should not. */
  readonly check: (answer: Answer) => void;
}

const refused = (status: number) => (answer: Answer) => {
  expect(answer.status).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
};

const noRestricted = (answer: Answer) => {
  expect(answer.status).toBe(200);
  for (const secret of answer.body.secrets) {
    expect(secret.data_classification).not.toBe('restricted');
  }
};

const GETS = [
  '/admin/providers/health',
  '/admin/providers/events',
  '/admin/secrets/status',
  '/admin/secrets/rotations',
  '/metrics',
];

/** A mix of callers and endpoints, errors inside transactions included. */
const KINDS: readonly Kind[] = [
  ...(['reader', 'client'] as const).flatMap((caller) =>
    GETS.map((path) => ({ caller, method: 'GET', path, check: refused(403) })),
  ),
  { caller: 'anonymous', method: 'GET', path: '/admin/secrets/status', check: refused(401) },
  {
    caller: 'monitor',
    method: 'GET',
    path: '/admin/secrets/rotations',
    check: (answer) => {
      expect(answer.status).toBe(200);
      for (const rotation of answer.body.rotations) {
        expect(rotation.status).toBe('completed');
      }
    },
  },
  { caller: 'monitor', method: 'GET', path: '/admin/secrets/status', check: refused(403) },
  {
    caller: 'monitor',
    method: 'GET',
    path: '/admin/providers/health',
    check: (answer) => expect(answer.body.summary.total_providers).toBeGreaterThan(0),
  },
  { caller: 'monitor', method: 'GET', path: '/metrics', check: (a) => expect(a.status).toBe(200) },
  {
    caller: 'monitor',
    method: 'POST',
    path: '/admin/providers/toggle',
    body: { provider_name: 'stripe', service_type: 'payment', enabled: false, reason: 'x' },
    check: refused(403),
  },
  { caller: 'admin', method: 'GET', path: '/admin/secrets/status', check: noRestricted },
  {
    caller: 'admin',
    method: 'POST',
    path: '/admin/secrets/rotate',
    body: { scope: 'sendgrid', key_name: 'api_key', rotation_type: 'emergency' },
    check: (answer) => expect([201, 409]).toContain(answer.status),
  },
  {
    caller: 'admin',
    method: 'POST',
    path: '/admin/providers/toggle',
    body: { provider_name: 'pool', service_type: 'sms', enabled: true, reason: 'pool test' },
    check: (answer) => expect(answer.status).toBe(200),
  },
  {
    caller: 'superadmin',
    method: 'GET',
    path: '/admin/secrets/status',
    check: (answer) => {
      const classes = answer.body.secrets.map(
        (secret: { data_classification: string }) => secret.data_classification,
      );
      expect(classes).toContain('restricted');
    },
  },
];

/** A fixed pseudo-random order, so that a failure can be replayed. */
function* shuffled(count: number) {
  let state = 28;
  for (let i = 0; i < count; i += 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    // The high bits: a power-of-two LCG's low bits cycle quickly.
    yield KINDS[(state >>> 16) % KINDS.length]!;
  }
}

describe.runIf(process.env.DATABASE_URL)(
  'createAdminHandler on a pool of 2 connections (needs DATABASE_URL: PGlite has one)',
  () => {
    const database = useDatabase('postgres', 2);
    let api: AdminServer;

    beforeAll(async () => {
      api = await startAdminServer(database().store);
      await seed(database().store, api.secrets);
    });
    afterAll(() => api?.close());

    it('leaks no role and no row across 1,000 interleaved requests', async () => {
      const queue = shuffled(REQUESTS);
      const seen = new Map<string, number>();
      const worker = async () => {
        for (let next = queue.next(); !next.done; next = queue.next()) {
          const kind = next.value;
          const answer = await api.call(kind.caller, kind.method, kind.path, kind.body);
          try {
            kind.check(answer);
          } catch (error) {
            throw new Error(`${kind.caller} ${kind.method} ${kind.path}: ${answer.text}`, {
              cause: error,
            });
          }
          const key = `${kind.caller} ${answer.status}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));

      expect([...seen.values()].reduce((a, b) => a + b)).toBe(REQUESTS);
      // Every caller took part, and the open rotation that monitor must not see exists.
      expect(new Set([...seen.keys()].map((key) => key.split(' ')[0]))).toEqual(
        new Set(['reader', 'client', 'anonymous', 'monitor', 'admin', 'superadmin']),
      );
      expect(seen.get('admin 201')).toBe(1);
    });

    it('leaves no role set on any pooled connection', async () => {
      const store = database().store;
      // Both connections at once: each sleeps, so the pool must hand out the second one.
      const rows = (
        await Promise.all(
          Array.from({ length: 6 }, () =>
            store.query<{ pid: number; current_user: string; session_user: string; role: string }>(
              sql`select pg_backend_pid() as pid, current_user, session_user,
              current_setting('role') as role, pg_sleep(0.05)::text`,
            ),
          ),
        )
      ).flat();

      expect(new Set(rows.map((row) => row.pid)).size).toBe(2);
      for (const row of rows) {
        expect(row).toMatchObject({ current_user: row.session_user, role: 'none' });
      }
      expect(rows[0]!.current_user).not.toMatch(/^m28_/);
    });
  },
);
