import { sql } from 'drizzle-orm';

import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { ProviderToggleEvent } from '../health/types.js';
import { asError, withDeadline } from './deadline.js';
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

/** What {@link ToggleSync} needs. @internal */
export interface ToggleSyncOptions {
  readonly store: M28Store;
  readonly monitor: ProviderHealthMonitor;
  /** Milliseconds between polls; 5000 with LISTEN, 1000 without. */
  readonly pollIntervalMs: number | undefined;
  /** Milliseconds a poll may take before it counts as failed. */
  readonly timeoutMs: number;
  readonly onError: (error: Error) => void;
}

const toDate = (value: string | Date | null) => (value === null ? null : new Date(value));

/**
 * Keeps this instance's toggles in step with the database: LISTEN on `m28_changes` where the
 * driver can, and a poll of `provider_config` always, as the fallback.
 * @internal
 */
export class ToggleSync {
  readonly #store: M28Store;
  readonly #monitor: ProviderHealthMonitor;
  readonly #pollIntervalMs: number | undefined;
  readonly #timeoutMs: number;
  readonly #onError: (error: Error) => void;
  #unlisten: (() => Promise<void>) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> | undefined;
  // When each provider's toggles last changed here, on the monotonic clock.
  readonly #changedAt = new Map<string, number>();
  #closed = true;

  constructor(options: ToggleSyncOptions) {
    this.#store = options.store;
    this.#monitor = options.monitor;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#timeoutMs = options.timeoutMs;
    this.#onError = options.onError;
  }

  /** Subscribes, and starts polling. Idempotent. */
  async start(): Promise<void> {
    if (!this.#closed) {
      return;
    }

    this.#closed = false;
    this.#monitor.on('provider:toggle', this.#onToggle);
    try {
      this.#unlisten = await this.#store.listen(CHANGES_CHANNEL, this.#onNotify);
    } catch (error) {
      this.#onError(asError(error));
    }
    if (this.#closed) {
      // close() ran while LISTEN was being set up.
      await this.#stopListening();

      return;
    }

    const interval = this.#pollIntervalMs ?? (this.#unlisten ? 5000 : 1000);
    this.#timer = setInterval(() => {
      this.poll().catch((error: unknown) => this.#onError(asError(error)));
    }, interval);
    this.#timer.unref?.();
  }

  /** Unsubscribes, stops polling, and waits for a poll in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#monitor.off('provider:toggle', this.#onToggle);
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#stopListening();
    await this.#polling?.catch(() => undefined);
  }

  /** Reads every toggle once and applies those that differ; joins a poll already running. */
  poll(): Promise<void> {
    this.#polling ??= this.#readToggles().finally(() => {
      this.#polling = undefined;
    });

    return this.#polling;
  }

  async #readToggles(): Promise<void> {
    const startedAt = performance.now();
    const rows = await withDeadline(
      this.#store.withRole('m28_system', (tx) =>
        this.#store.query<ToggleRow>(
          sql`select provider_name, service_type, enabled, maintenance_mode, maintenance_until
            from m28.provider_config`,
          tx,
        ),
      ),
      this.#timeoutMs,
      'the toggle poll',
    );
    for (const row of rows) {
      // A toggle applied since the read began, made here or heard of, is newer than the row.
      const changedAt = this.#changedAt.get(`${row.provider_name}/${row.service_type}`);
      if (changedAt === undefined || changedAt < startedAt) {
        this.#apply(row);
      }
    }
  }

  async #stopListening(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => undefined);
  }

  #apply(row: ToggleRow): void {
    // After close() the monitor may be closed too: a late toggle would arm its timers again.
    if (this.#closed) {
      return;
    }

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

  readonly #onToggle = (event: ProviderToggleEvent): void => {
    this.#changedAt.set(`${event.provider}/${event.service}`, performance.now());
  };

  readonly #onNotify = (payload: string): void => {
    let message: (Partial<ToggleRow> & { kind?: string }) | null;
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }

    // Anyone may NOTIFY on the channel: a payload of `null` or `42` is not ours.
    if (this.#closed || typeof message !== 'object' || message === null) {
      return;
    }
    if (!message.provider_name || !message.service_type) {
      return;
    }
    if (message.kind === 'provider') {
      this.#apply({
        provider_name: message.provider_name,
        service_type: message.service_type,
        enabled: message.enabled ?? true,
        maintenance_mode: message.maintenance_mode ?? false,
        maintenance_until: message.maintenance_until ?? null,
      });
    } else if (message.kind === 'breaker_reset') {
      this.#monitor.applyReset(message.provider_name, message.service_type, { origin: 'remote' });
    }
  };
}
