import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import { isM28Error } from '../errors/M28Error.js';
import type { HealthCheck, HealthCheckResult } from './types.js';

/** Thrown inside a check whose time ran out, so the breaker counts it as a failure. */
class CheckTimeoutError extends Error {
  readonly code = 'CHECK_TIMEOUT';
}

/** Reasons of checks the breaker refused: they were never made. */
export const REFUSED_CHECK_REASONS: ReadonlySet<string> = new Set([
  'circuit_breaker_open',
  'disabled',
  'maintenance',
]);

const M28_REASONS: Readonly<Record<string, string>> = {
  M28_BREAKER_OPEN: 'circuit_breaker_open',
  M28_PROVIDER_DISABLED: 'disabled',
  M28_PROVIDER_IN_MAINTENANCE: 'maintenance',
  M28_PROVIDER_TIMEOUT: 'timeout',
};

/** Why a check failed, from its error's code or class: never from its message. */
function reasonOf(error: unknown): string {
  if (error instanceof CheckTimeoutError) {
    return 'timeout';
  }
  if (isM28Error(error)) {
    return M28_REASONS[error.code] ?? error.code;
  }

  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') {
    return String(code);
  }

  return error instanceof Error ? error.name : 'check_failed';
}

/**
 * Runs health checks through their breakers, at most `concurrency` at a time, each bounded
 * by `timeoutMs`. A check that outlives its time is abandoned and its signal aborted.
 * @internal
 */
export class CheckRunner {
  readonly #registry: CircuitBreakerRegistry;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(registry: CircuitBreakerRegistry, timeoutMs: number, concurrency: number) {
    this.#registry = registry;
    this.#timeoutMs = timeoutMs;
    this.#concurrency = Math.max(1, concurrency);
  }

  /** Checks one provider; resolves with the outcome, never rejects. */
  async run(
    target: { readonly provider: string; readonly service: string },
    check: HealthCheck | undefined,
  ): Promise<HealthCheckResult> {
    // Only the names: the target may be the monitor's whole record.
    const names = { provider: target.provider, service: target.service };
    const controller = new AbortController();
    // What became of the check itself: a breaker's fallback may answer in its place.
    let made: { settled: boolean; passed: boolean; error?: unknown } | undefined;
    await this.#acquire();
    const started = Date.now();
    let reason: string;
    try {
      await this.#registry.fire(names.provider, names.service, async () => {
        made = { settled: false, passed: false };
        try {
          const outcome = await this.#bounded(check ?? (() => true), controller);
          made = { settled: true, passed: true };

          return outcome;
        } catch (error) {
          made = { settled: true, passed: false, error };
          throw error;
        }
      });
      if (made?.passed) {
        return {
          ...names,
          at: new Date(started),
          passed: true,
          available: true,
          responseTimeMs: Date.now() - started,
        };
      }
      reason = this.#fallbackReason(names, made);
    } catch (error) {
      reason = reasonOf(error);
    } finally {
      this.#release();
    }

    // The breaker may have given up first (its own timeout): the check is abandoned too.
    controller.abort();

    return {
      ...names,
      at: new Date(started),
      passed: false,
      available: false,
      responseTimeMs: null,
      reason,
    };
  }

  // A fallback answered: the check failed, timed out in the breaker, or was never made.
  #fallbackReason(
    names: { provider: string; service: string },
    made: { settled: boolean; error?: unknown } | undefined,
  ): string {
    if (made?.settled) {
      return reasonOf(made.error);
    }
    if (made) {
      return 'timeout';
    }

    const access = this.#registry.get(names.provider, names.service)?.access.kind;

    return access === 'disabled' || access === 'maintenance' ? access : 'circuit_breaker_open';
  }

  #bounded(check: HealthCheck, controller: AbortController): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        controller.abort();
        reject(new CheckTimeoutError(`health check exceeded ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      timer.unref?.();
      controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      Promise.resolve()
        .then(() => check(controller.signal))
        .then(
          (outcome) => {
            clearTimeout(timer);
            if (outcome === false || (outcome as { ok?: unknown } | null)?.ok === false) {
              reject(
                Object.assign(new Error('health check reported failure'), { code: 'unhealthy' }),
              );
            } else {
              resolve(outcome);
            }
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
    });
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running += 1;

      return Promise.resolve();
    }

    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.#running += 1;
        resolve();
      });
    });
  }

  #release(): void {
    this.#running -= 1;
    this.#waiting.shift()?.();
  }
}
