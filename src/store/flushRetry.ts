import { withDeadline } from './deadline.js';

/**
 * When the sink may flush again after failed flushes: a backoff from 500 ms doubling up to
 * 30 s, less up to half of it at random.
 * @internal
 */
export class FlushBackoff {
  #retryAt = 0;
  #failuresInARow = 0;

  /** Milliseconds until the next flush may be tried; zero or less when it may be now. */
  get remainingMs(): number {
    return this.#retryAt - Date.now();
  }

  /** Counts a failed flush. @returns the milliseconds to wait before the next. */
  failed(): number {
    this.#failuresInARow += 1;
    const backoff = Math.min(30_000, 250 * 2 ** this.#failuresInARow);
    const delay = Math.round(backoff * (0.5 + Math.random() / 2));
    this.#retryAt = Date.now() + delay;

    return delay;
  }

  /** Counts a flush that committed: the next failure waits the shortest backoff again. */
  succeeded(): void {
    this.#failuresInARow = 0;
    this.#retryAt = 0;
  }

  /** Lets the next flush run now, without forgetting how many failed in a row. */
  skip(): void {
    this.#retryAt = 0;
  }
}

/**
 * The timer that writes transitions promptly: on the next turn of the event loop, or after a
 * failed flush once its backoff has passed rather than at the next interval.
 * @internal
 */
export class PromptFlush {
  readonly #backoff: FlushBackoff;
  readonly #flush: () => void;
  readonly #running: () => boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `flush` is called when the timer fires; nothing is scheduled while `running()` is false. */
  constructor(backoff: FlushBackoff, flush: () => void, running: () => boolean) {
    this.#backoff = backoff;
    this.#flush = flush;
    this.#running = running;
  }

  /** Flushes in `delayMs`, or later if the backoff has not passed then; one timer at a time. */
  schedule(delayMs: number): void {
    if (this.#timer || !this.#running()) {
      return;
    }

    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const wait = this.#backoff.remainingMs;
      if (wait > 0) {
        this.schedule(wait);
      } else {
        this.#flush();
      }
    }, delayMs);
    this.#timer.unref?.();
  }

  /** Clears the timer, if any. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * A flush whose transaction outlived its deadline. It may still commit: no flush starts beside
 * it, for ten deadlines. A connection hung longer than that is given up on, so that the sink
 * lives on; should that one commit even later, its counts are written twice.
 * @internal
 */
export class LateFlush {
  readonly #timeoutMs: number;
  #pending: Promise<void> | undefined;
  #since = 0;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Follows a flush that timed out: should `work` commit after all, `onCommit` runs, and the
   * next flush waits for it.
   */
  follow(work: Promise<unknown>, onCommit: () => void): void {
    this.#since = Date.now();
    const late: Promise<void> = work
      .then(onCommit, () => undefined)
      .finally(() => {
        if (this.#pending === late) {
          this.#pending = undefined;
        }
      });
    this.#pending = late;
  }

  /**
   * What a new flush must wait for first: the late flush, if any and not yet given up on, for
   * at most one more deadline. `undefined` when there is nothing to wait for.
   * @throws an `M28_STORE_TIMEOUT` error, through the promise, when that deadline passes; the
   * late flush is then waited for again by the next flush.
   */
  settle(): Promise<void> | undefined {
    if (this.#pending && Date.now() - this.#since < 10 * this.#timeoutMs) {
      return this.#wait(this.#pending);
    }
    this.#pending = undefined;

    return undefined;
  }

  async #wait(pending: Promise<void>): Promise<void> {
    await withDeadline(pending, this.#timeoutMs, 'a late store flush');
    this.#pending = undefined;
  }
}
