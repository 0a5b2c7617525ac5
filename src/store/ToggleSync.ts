import { sql } from 'drizzle-orm';

import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { M28Store } from './M28Store.js';

/** The channel every M28 SQL function notifies on. */
export const CHANGES_CHANNEL = 'm28_changes';

interface ToggleRow {
  provider_name: string;
  service_type: string;
  enabled: boolean;
  maintenance_mode: boolean;
  maintenance_until: string | Date | null;
}

const toDate = (value: string | Date | null) => (value === null ? null : new Date(value));

/**
 * Keeps this instance's toggles in step with the database: LISTEN on `m28_changes` where the
 * driver can, and a poll of `provider_config` always, as the fallback.
 */
export class ToggleSync {
  readonly #store: M28Store;
  readonly #monitor: ProviderHealthMonitor;
  readonly #pollIntervalMs: number | undefined;
  readonly #onError: (error: Error) => void;
  #unlisten: (() => Promise<void>) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;

  constructor(
    store: M28Store,
    monitor: ProviderHealthMonitor,
    pollIntervalMs: number | undefined,
    onError: (error: Error) => void,
  ) {
    this.#store = store;
    this.#monitor = monitor;
    this.#pollIntervalMs = pollIntervalMs;
    this.#onError = onError;
  }

  /** Subscribes, and starts polling. */
  async start(): Promise<void> {
    try {
      this.#unlisten = await this.#store.listen(CHANGES_CHANNEL, this.#onNotify);
    } catch (error) {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    }
    const interval = this.#pollIntervalMs ?? (this.#unlisten ? 5000 : 1000);
    this.#timer = setInterval(() => {
      this.poll().catch((error: unknown) => {
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      });
    }, interval);
    this.#timer.unref?.();
  }

  /** Unsubscribes and stops polling. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => undefined);
  }

  /** Reads every toggle once and applies those that differ. Skips if a poll is running. */
  async poll(): Promise<void> {
    if (this.#polling) {
      return;
    }

    this.#polling = true;
    try {
      const rows = await this.#store.withRole('m28_system', (tx) =>
        this.#store.query<ToggleRow>(
          sql`select provider_name, service_type, enabled, maintenance_mode, maintenance_until
            from m28.provider_config`,
          tx,
        ),
      );
      for (const row of rows) {
        this.#apply(row);
      }
    } finally {
      this.#polling = false;
    }
  }

  #apply(row: ToggleRow): void {
    this.#monitor.applyToggle(
      row.provider_name,
      row.service_type,
      {
        enabled: row.enabled,
        maintenanceMode: row.maintenance_mode,
        maintenanceUntil: toDate(row.maintenance_until),
      },
      { origin: 'remote' },
    );
  }

  readonly #onNotify = (payload: string): void => {
    let message: Partial<ToggleRow> & { kind?: string };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }

    if (message.kind === 'provider' && message.provider_name && message.service_type) {
      this.#apply({
        provider_name: message.provider_name,
        service_type: message.service_type,
        enabled: message.enabled ?? true,
        maintenance_mode: message.maintenance_mode ?? false,
        maintenance_until: message.maintenance_until ?? null,
      });
    } else if (message.kind === 'breaker_reset' && message.provider_name && message.service_type) {
      this.#monitor.applyReset(message.provider_name, message.service_type, { origin: 'remote' });
    }
  };
}
