import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import { isM28Error } from '../errors/M28Error.js';
import type { HealthCheck, HealthCheckResult } from './types.js';

/** Thrown inside a check whose time ran out, so the breaker counts it as a failure. */
class CheckTimeoutError extends Error {
  readonly code = 'CHECK_TIMEOUT';
}

/** Why a check failed, from its error's code or class: never from its message. */
function reasonOf(error: unknown): string {
  if (error instanceof CheckTimeoutError) {
    return 'timeout';
  }
  if (isM28Error(error)) {
    const reasons: Record<string, string> = {
      M28_BREAKER_OPEN: 'circuit_breaker_open',
      M28_PROVIDER_DISABLED: 'disabled',
      M28_PROVIDER_IN_MAINTENANCE: 'maintenance',
      M28_PROVIDER_TIMEOUT: 'timeout',
    };

    return reasons[error.code] ?? error.code;
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
    target: { provider: string; service: string },
    check: HealthCheck | undefined,
  ): Promise<HealthCheckResult> {
    await this.#acquire();
    const started = Date.now();
    try {
      await this.#registry.fire(target.provider, target.service, () =>
        this.#bounded(check ?? (() => true)),
      );

      return {
        ...target,
        at: new Date(started),
        passed: true,
        available: true,
        responseTimeMs: Date.now() - started,
      };
    } catch (error) {
      const reason = reasonOf(error);

      return {
        ...target,
        at: new Date(started),
        passed: false,
        available: false,
        responseTimeMs: null,
        reason,
      };
    } finally {
      this.#release();
    }
  }

  #bounded(check: HealthCheck): Promise<unknown> {
    const controller = new AbortController();

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        controller.abort();
        reject(new CheckTimeoutError(`health check exceeded ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      timer.unref?.();
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
