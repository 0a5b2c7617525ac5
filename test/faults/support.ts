import { createServer, connect, type Server, type Socket } from 'node:net';

import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { expect } from 'vitest';

import type { M28Ops, M28Store, StoreSinkEvents } from '../../src/index.js';

/** The PostgreSQL server of the run, when there is one. */
export const DATABASE_URL = process.env.DATABASE_URL;

/** A describe title that says why it is skipped, when it is. */
export function onPostgres(title: string): string {
  return DATABASE_URL ? `${title} on postgres` : `${title} (skipped: DATABASE_URL is not set)`;
}

/** A superuser connection to the run's server, outside the database under test. */
export function adminConnection() {
  return postgres(DATABASE_URL as string, { max: 1, onnotice: () => {} });
}

/** The database name in a PostgreSQL URL. */
export const databaseOf = (url: string) => new URL(url).pathname.slice(1);

/** Ends every connection to `database` but the caller's own. */
export function terminateAll(admin: postgres.Sql, database: string) {
  return admin`select pg_terminate_backend(pid) from pg_stat_activity
    where datname = ${database} and pid <> pg_backend_pid()`;
}

/** The `p`th percentile of `values`, nearest rank. */
export function percentile(p: number, values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);

  return sorted[rank] ?? 0;
}

/**
 * Asserts that calls did not wait on the store. A store in the way would slow a run of calls
 * by a round trip or more; a loaded machine can still stall one call now and then.
 */
export function expectPrompt(latencies: readonly number[]): void {
  expect(latencies.length).toBeGreaterThan(0);
  expect(percentile(99, latencies)).toBeLessThan(50);
  expect(Math.max(...latencies)).toBeLessThan(250);
}

// Mirrors the sink's rules: which status changes become events, which checks are no news.
const REFUSED = new Set(['circuit_breaker_open', 'disabled', 'maintenance']);
const DERIVED = new Set(['healthy', 'degraded', 'unhealthy']);

/** What a facade emitted, counted the way the sink turns it into event rows. */
export interface Emitted {
  breaker_open: number;
  breaker_half_open: number;
  breaker_close: number;
  status_change: number;
  health_check_failed: number;
  alert_raised: number;
  alert_resolved: number;
  errors: Error[];
  dropped: Parameters<StoreSinkEvents['store:dropped']>[0][];
}

/** Counts, from now on, what `ops` emits that the sink writes, drops or fails on. */
export function record(ops: M28Ops): Emitted {
  const seen: Emitted = {
    breaker_open: 0,
    breaker_half_open: 0,
    breaker_close: 0,
    status_change: 0,
    health_check_failed: 0,
    alert_raised: 0,
    alert_resolved: 0,
    errors: [],
    dropped: [],
  };
  ops.on('breaker:open', () => (seen.breaker_open += 1));
  ops.on('breaker:half_open', () => (seen.breaker_half_open += 1));
  ops.on('breaker:close', () => (seen.breaker_close += 1));
  ops.on('provider:status', (e) => {
    seen.status_change += DERIVED.has(e.from) && DERIVED.has(e.to) ? 1 : 0;
  });
  ops.on('health:checked', (r) => {
    seen.health_check_failed += !r.passed && !REFUSED.has(r.reason ?? '') ? 1 : 0;
  });
  ops.on('alert:raised', () => (seen.alert_raised += 1));
  ops.on('alert:resolved', () => (seen.alert_resolved += 1));
  ops.on('error', (error) => seen.errors.push(error));
  ops.on('store:dropped', (event) => seen.dropped.push(event));

  return seen;
}

/** The transitions among `seen`: the events the sink never drops. */
export const transitionsOf = (seen: Emitted) =>
  seen.breaker_open +
  seen.breaker_half_open +
  seen.breaker_close +
  seen.status_change +
  seen.alert_raised +
  seen.alert_resolved;

/** The event rows `seen` should become, by type, as {@link countByType} counts them. */
export function expectedRows(seen: Emitted, kept = seen.health_check_failed) {
  const counts: Record<string, number> = {
    breaker_open: seen.breaker_open,
    breaker_half_open: seen.breaker_half_open,
    breaker_close: seen.breaker_close,
    status_change: seen.status_change,
    health_check_failed: kept,
    alert_raised: seen.alert_raised,
    alert_resolved: seen.alert_resolved,
  };

  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}

/** Runs `m28.toggle_provider()` as m28_admin, as an operator's psql session would. */
export function toggleInSql(store: M28Store, provider: string, enabled: boolean) {
  return store.withRole('m28_admin', (tx) =>
    store.query(
      sql`select m28.toggle_provider(${provider}, 'api', ${enabled}, 'fault test',
        'oncall@example.com')`,
      tx,
    ),
  );
}

/** Actions run in order, each no sooner than `delay()` ms after it was queued. */
class DelayedQueue {
  readonly #delay: () => number;
  #queue: { at: number; run: () => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delay: () => number) {
    this.#delay = delay;
  }

  push(run: () => void): void {
    const last = this.#queue.at(-1)?.at ?? 0;
    this.#queue.push({ at: Math.max(Date.now() + this.#delay(), last), run });
    this.#arm();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }

  #arm(): void {
    const head = this.#queue[0];
    if (this.#timer || !head) {
      return;
    }
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        while (this.#queue[0] && this.#queue[0].at <= Date.now()) {
          this.#queue.shift()?.run();
        }
        this.#arm();
      },
      Math.max(0, head.at - Date.now()),
    );
  }
}

/**
 * A TCP proxy on 127.0.0.1 that forwards to the PostgreSQL server and holds every chunk,
 * both ways, for `delayMs` (order kept).
 */
export class SlowProxy {
  delayMs = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #queues = new Set<DelayedQueue>();
  readonly #target: { host: string; port: number };

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#pipe(client));
  }

  /** Listens on a free loopback port and resolves to the proxy. */
  static async open(target: { host: string; port: number }): Promise<SlowProxy> {
    const proxy = new SlowProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));

    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);

    return parsed.toString();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const queue of this.#queues) {
      queue.clear();
    }
    for (const socket of this.#sockets) {
      socket.destroy();
    }
    await closed;
  }

  #pipe(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    const up = new DelayedQueue(() => this.delayMs);
    const down = new DelayedQueue(() => this.delayMs);
    this.#queues.add(up).add(down);
    this.#sockets.add(client).add(upstream);
    const link = (from: Socket, to: Socket, queue: DelayedQueue) => {
      from.on('data', (chunk) => queue.push(() => to.destroyed || to.write(chunk)));
      from.on('end', () => queue.push(() => to.end()));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        queue.push(() => {
          to.destroy();
          this.#queues.delete(queue);
        });
      });
    };
    link(client, upstream, up);
    link(upstream, client, down);
  }
}
