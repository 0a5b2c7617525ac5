import { sql } from 'drizzle-orm';

import type { M28Store } from '../store/M28Store.js';
import { keyOf } from './ProviderRecord.js';

// Node's timers fire after 1 ms when asked to wait longer than 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;
// The database's clock decides when maintenance ends; until it agrees, ask again this soon.
const RETRY_MS = 1000;
const ERROR_RETRY_MS = 10_000;

/** A provider's toggles, as the monitor applies them. */
interface ToggleState {
  enabled: boolean;
  maintenanceMode: boolean;
  maintenanceUntil: Date | null;
}

/**
 * What the expiry needs of the monitor.
 * @internal
 */
export interface MaintenanceExpiryHooks {
  /** The maintenance expiry the monitor holds now for a provider. */
  readonly untilOf: (provider: string, service: string) => Date | null;
  /** Applies a toggle the database made. */
  readonly apply: (
    provider: string,
    service: string,
    state: ToggleState,
    meta: { origin: 'local' | 'remote'; actor?: string; reason?: string },
  ) => void;
  /** Reports a failure; the expiry tries again later. */
  readonly error: (error: Error) => void;
}

/**
 * Ends maintenance windows when their time comes, through `m28.end_expired_maintenance()`,
 * which audits the end as a toggle by `system`. Tries again until the database agrees the
 * window is over, and waits out delays longer than a Node timer can.
 * @internal
 */
export class MaintenanceExpiry {
  readonly #store: M28Store;
  readonly #hooks: MaintenanceExpiryHooks;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(store: M28Store, hooks: MaintenanceExpiryHooks) {
    this.#store = store;
    this.#hooks = hooks;
  }

  /** Arms, moves or, with no `until`, disarms a provider's expiry. */
  arm(provider: string, service: string, until: Date | null, delayMs?: number): void {
    const key = keyOf(provider, service);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    if (!until || this.#stopped) {
      return;
    }

    const delay = delayMs ?? Math.max(0, until.getTime() - Date.now());
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (Date.now() < until.getTime()) {
          this.arm(provider, service, until);

          return;
        }

        this.#end(provider, service).then(
          () => this.#retry(provider, service, until, RETRY_MS),
          (error: unknown) => {
            this.#hooks.error(error instanceof Error ? error : new Error(String(error)));
            this.#retry(provider, service, until, ERROR_RETRY_MS);
          },
        );
      },
      Math.min(MAX_TIMER_DELAY_MS, delay),
    );
    timer.unref?.();
    this.#timers.set(key, timer);
  }

  /** Clears every timer; `arm()` does nothing until {@link MaintenanceExpiry.resume}. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) {
      clearTimeout(timer);
    }
    this.#timers.clear();
  }

  /** Lets `arm()` set timers again. */
  resume(): void {
    this.#stopped = false;
  }

  #retry(provider: string, service: string, until: Date, delayMs: number): void {
    const current = this.#hooks.untilOf(provider, service);
    if (this.#timers.has(keyOf(provider, service)) || current?.getTime() !== until.getTime()) {
      return;
    }

    this.arm(provider, service, until, delayMs);
  }

  async #end(provider: string, service: string): Promise<void> {
    const store = this.#store;
    const ended = await store.withRole('m28_system', (tx) =>
      store.query<{ provider_name: string; service_type: string }>(
        sql`select provider_name, service_type from m28.end_expired_maintenance('system')`,
        tx,
      ),
    );
    for (const row of ended) {
      this.#hooks.apply(
        row.provider_name,
        row.service_type,
        { enabled: true, maintenanceMode: false, maintenanceUntil: null },
        { origin: 'local', actor: 'system', reason: 'maintenance window ended' },
      );
    }
    if (this.#hooks.untilOf(provider, service)) {
      await this.#reload(provider, service);
    }
  }

  // Another instance may have ended the window first; without NOTIFY, nobody would say so.
  async #reload(provider: string, service: string): Promise<void> {
    const store = this.#store;
    const [row] = await store.withRole('m28_system', (tx) =>
      store.query<{
        enabled: boolean;
        maintenance_mode: boolean;
        maintenance_until: string | Date | null;
      }>(
        sql`select enabled, maintenance_mode, maintenance_until from m28.provider_config
          where provider_name = ${provider} and service_type = ${service}`,
        tx,
      ),
    );
    if (!row) {
      return;
    }

    const until = row.maintenance_until === null ? null : new Date(row.maintenance_until);
    this.#hooks.apply(
      provider,
      service,
      { enabled: row.enabled, maintenanceMode: row.maintenance_mode, maintenanceUntil: until },
      { origin: 'remote' },
    );
  }
}
