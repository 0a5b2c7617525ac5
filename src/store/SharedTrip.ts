import { sql } from 'drizzle-orm';

import type {
  BreakerOpenEvent,
  CircuitBreakerRegistry,
} from '../breakers/CircuitBreakerRegistry.js';
import type { M28Store } from './M28Store.js';
import { CHANGES_CHANNEL } from './ToggleSync.js';

interface TripMessage {
  kind: 'breaker_trip';
  origin: string;
  provider_name: string;
  service_type: string;
  opened_at: string;
  next_attempt_at: string;
}

/**
 * The `sharedTrip` option: a breaker that opens on one instance opens on every instance
 * sharing the database, until the same next attempt time. The trip travels as a NOTIFY,
 * sent from the `breaker:open` event, never from the call that failed.
 *
 * The trade-off: one instance with a bad network path to a provider trips that provider for
 * every instance, healthy ones included.
 */
export class SharedTrip {
  readonly #store: M28Store;
  readonly #registry: CircuitBreakerRegistry;
  readonly #instanceId: string;
  readonly #onError: (error: Error) => void;
  #unlisten: (() => Promise<void>) | undefined;
  #started = false;

  constructor(
    store: M28Store,
    registry: CircuitBreakerRegistry,
    instanceId: string,
    onError: (error: Error) => void,
  ) {
    this.#store = store;
    this.#registry = registry;
    this.#instanceId = instanceId;
    this.#onError = onError;
  }

  /** Starts sending this instance's trips and applying the others'. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) {
      return;
    }

    this.#started = true;
    this.#registry.on('breaker:open', this.#onOpen);
    this.#unlisten = await this.#store.listen(CHANGES_CHANNEL, this.#onNotify);
  }

  /** Stops both. Idempotent. */
  async close(): Promise<void> {
    this.#started = false;
    this.#registry.off('breaker:open', this.#onOpen);
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => undefined);
  }

  readonly #onOpen = (event: BreakerOpenEvent): void => {
    // A trip learned from another instance is not sent on again.
    if (event.shared) {
      return;
    }

    const message: TripMessage = {
      kind: 'breaker_trip',
      origin: this.#instanceId,
      provider_name: event.provider,
      service_type: event.service,
      opened_at: event.openedAt.toISOString(),
      next_attempt_at: event.nextAttemptAt.toISOString(),
    };
    this.#store
      .withRole('m28_system', (tx) =>
        this.#store.query(
          sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(message)})`,
          tx,
        ),
      )
      .catch((error: unknown) => {
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      });
  };

  readonly #onNotify = (payload: string): void => {
    let message: Partial<TripMessage> | null;
    try {
      message = JSON.parse(payload) as Partial<TripMessage> | null;
    } catch {
      return;
    }

    if (
      message?.kind !== 'breaker_trip' ||
      message.origin === this.#instanceId ||
      typeof message.provider_name !== 'string' ||
      typeof message.service_type !== 'string'
    ) {
      return;
    }

    const breaker = this.#registry.get(message.provider_name, message.service_type);
    const openedAt = new Date(message.opened_at ?? '');
    const nextAttemptAt = new Date(message.next_attempt_at ?? '');
    if (breaker && !Number.isNaN(openedAt.getTime()) && !Number.isNaN(nextAttemptAt.getTime())) {
      breaker.openShared(openedAt, nextAttemptAt);
    }
  };
}
