import { randomUUID } from 'node:crypto';

import type { EventDraft, PendingEvent } from './operationalEvents.js';

/**
 * The operational events waiting to be written, at most a bound of them: past it, the oldest
 * that are not transitions are dropped, and `onDropped` is told how many. Transitions never are.
 * @internal
 */
export class EventBuffer {
  readonly #maxEvents: number;
  readonly #onDropped: (dropped: number) => void;
  #events: PendingEvent[] = [];

  constructor(maxEvents: number, onDropped: (dropped: number) => void) {
    this.#maxEvents = maxEvents;
    this.#onDropped = onDropped;
  }

  /** Buffers an event, with a fresh key and the time now. */
  push(event: EventDraft): void {
    this.#events.push({
      ...event,
      details: event.details ?? {},
      event_key: randomUUID(),
      created_at: new Date().toISOString(),
    });
    this.#trim();
  }

  /** Everything buffered, oldest first; the buffer is left empty. */
  take(): PendingEvent[] {
    const events = this.#events;
    this.#events = [];

    return events;
  }

  /** Puts back a batch that was not written, ahead of the events buffered since. */
  restore(events: readonly PendingEvent[]): void {
    this.#events = [...events, ...this.#events];
    this.#trim();
  }

  /** Whether a transition is buffered. */
  hasTransition(): boolean {
    return this.#events.some((event) => event.transition);
  }

  /** Drops the oldest events that are not transitions until the bound is kept, if it can be. */
  #trim(): void {
    let excess = this.#events.length - this.#maxEvents;
    if (excess <= 0) {
      return;
    }

    let dropped = 0;
    this.#events = this.#events.filter((event) => {
      if (excess > 0 && !event.transition) {
        excess -= 1;
        dropped += 1;

        return false;
      }

      return true;
    });
    if (dropped > 0) {
      this.#onDropped(dropped);
    }
  }
}
