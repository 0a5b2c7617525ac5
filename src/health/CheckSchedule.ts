import type { HealthCheckLease } from './HealthCheckLease.js';
import type { ProviderRecord } from './ProviderRecord.js';

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * The timers that check each provider every `record.intervalMs`. Each tick first claims the
 * check's lease, so that one instance checks a provider per interval.
 * @internal
 */
export class CheckSchedule {
  readonly #lease: HealthCheckLease;
  readonly #check: (provider: string, service: string) => Promise<unknown>;
  readonly #error: (error: Error) => void;

  /** Ticks run `check` once `lease` is claimed, and pass what it throws to `error`. */
  constructor(
    lease: HealthCheckLease,
    check: (provider: string, service: string) => Promise<unknown>,
    error: (error: Error) => void,
  ) {
    this.#lease = lease;
    this.#check = check;
    this.#error = error;
  }

  /** Restarts a provider's timer; without a check, only stops it. */
  start(record: ProviderRecord): void {
    this.stop(record);
    if (!record.check) {
      return;
    }

    record.timer = setInterval(() => {
      // A check slower than the interval must not pile up behind the concurrency bound.
      if (record.checking) {
        return;
      }

      record.checking = true;
      const timer = record.timer;
      this.#lease
        .claim(record)
        // The claim is a round trip: a monitor closed meanwhile must not check, or the check
        // would create a breaker again in a registry already disposed.
        .then((claimed) =>
          claimed && record.timer === timer
            ? this.#check(record.provider, record.service)
            : undefined,
        )
        .catch((error: unknown) => {
          this.#error(asError(error));
        })
        .finally(() => {
          record.checking = false;
        });
    }, record.intervalMs);
    record.timer.unref?.();
  }

  /** Stops a provider's timer. */
  stop(record: ProviderRecord): void {
    clearInterval(record.timer);
    record.timer = undefined;
  }
}
