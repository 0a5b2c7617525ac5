import { M28Error } from '../errors/M28Error.js';
import type { M28Store } from '../store/M28Store.js';
import type { ToggleState } from './ProviderRecords.js';

/**
 * The changes this instance is making, by provider key, counted while they run: their
 * NOTIFY echo must not be taken as a change made elsewhere.
 * @internal
 */
export class LocalChanges {
  readonly #running = new Map<string, number>();

  /** Whether a change to `key` is running here. */
  has(key: string): boolean {
    return this.#running.has(key);
  }

  /**
   * Counts a change to `key` as running.
   * @returns the function that counts it as done; call it once, when the change settles.
   */
  begin(key: string): () => void {
    this.#running.set(key, (this.#running.get(key) ?? 0) + 1);

    return () => {
      const left = (this.#running.get(key) ?? 1) - 1;
      if (left > 0) {
        this.#running.set(key, left);
      } else {
        this.#running.delete(key);
      }
    };
  }
}

/**
 * The store that toggles and resets are audited in.
 * @throws {@link M28Error} with code `M28_NO_STORE` without one.
 * @internal
 */
export function requireStore(store: M28Store | undefined): M28Store {
  if (!store) {
    throw new M28Error(
      'M28_NO_STORE',
      'toggles and resets are audited in the database: give the monitor a store',
    );
  }

  return store;
}

/**
 * The toggles a toggle made, as `m28.toggle_provider()` recorded them.
 * @internal
 */
export function toggleStateOf(value: {
  readonly enabled: boolean;
  readonly maintenanceMode?: boolean | undefined;
  readonly until?: Date | undefined;
}): ToggleState {
  return {
    enabled: value.enabled,
    maintenanceMode: value.maintenanceMode ?? false,
    maintenanceUntil: value.until ?? null,
  };
}
