import { randomUUID } from 'node:crypto';

import { sql } from 'drizzle-orm';

import type { M28Store } from '../store/M28Store.js';

/**
 * The lease a scheduled check claims on its provider's health row through
 * `m28.claim_health_check()`, so that one instance checks a provider per interval however
 * many share the database.
 * @internal
 */
export class HealthCheckLease {
  readonly #store: M28Store | undefined;
  readonly #enabled: boolean;
  // Names this instance as a lease owner.
  readonly #instanceId = randomUUID();

  /** Without a store, or with `enabled` false, every claim succeeds. */
  constructor(store: M28Store | undefined, enabled: boolean) {
    this.#store = store;
    this.#enabled = enabled;
  }

  /**
   * Claims the lease for one check of a provider; resolves false when another instance
   * holds it.
   */
  async claim(record: {
    readonly provider: string;
    readonly service: string;
    readonly intervalMs: number;
  }): Promise<boolean> {
    const store = this.#store;
    if (!store || !this.#enabled) {
      return true;
    }

    // Leases last nine tenths of an interval: the next tick, here or elsewhere, finds it free.
    const leaseMs = Math.max(1, Math.floor(record.intervalMs * 0.9));
    const [row] = await store.withRole('m28_system', (tx) =>
      store.query<{ claimed: boolean }>(
        sql`select m28.claim_health_check(${record.provider}, ${record.service},
          ${this.#instanceId}, ${leaseMs}) as claimed`,
        tx,
      ),
    );

    return row?.claimed === true;
  }
}
