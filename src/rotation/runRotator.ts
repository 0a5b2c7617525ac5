import { fingerprint } from '../secrets/fingerprint.js';
import type { SecretsManager } from '../secrets/SecretsManager.js';

/** Where a rotator's steps are in the rotation. */
export interface RotationContext {
  /** The rotation id. */
  readonly rotationId: string;
  /** The secret's scope. */
  readonly scope: string;
  /** The secret's key name within the scope. */
  readonly keyName: string;
  /** 1 on the first try of a step, 2 on its first retry, and so on. */
  readonly attempt: number;
}

/** A new secret, held in memory only for the length of the rotation. */
export interface NewSecret {
  /** The secret itself. It is fingerprinted, never stored, logged or emitted. */
  readonly value: string | Uint8Array;
  /** Its version label, such as `v2026-12-03`. */
  readonly version: string;
}

/**
 * An automated rotation for one scope. Each step must be safe to retry: it may run again
 * after a failure. Any step that still fails leaves the current version untouched and marks
 * the rotation failed.
 */
export interface Rotator {
  /** 1. Create the new secret at the provider (or generate it). */
  create(context: RotationContext): Promise<NewSecret> | NewSecret;
  /** 2. Put it in place where the services read it. */
  apply(context: RotationContext, secret: NewSecret): Promise<void> | void;
  /** 3. Prove it works, for example with a cheap authenticated read. */
  test(context: RotationContext, secret: NewSecret): Promise<void> | void;
  /** 4. Finish: retire the old secret at the provider, and anything else left to do. */
  finish?(context: RotationContext, secret: NewSecret): Promise<void> | void;
  /** Services that take the new secret, recorded on the rotation. */
  readonly affectedServices?: readonly string[];
  /** Fingerprints with HMAC-SHA256 under this key instead of plain SHA-256. */
  readonly hmacKey?: string | Uint8Array;
  /**
   * Retries of a failing step before the rotation fails: 0 to 10. `RotationScheduler` refuses
   * anything else; `runRotator()` alone uses 2 instead of a count that is not an integer.
   * @defaultValue 2
   */
  readonly retries?: number;
  /** Puts the provider in maintenance from `apply` to the end, for at most this long. */
  readonly maintenance?: {
    /** Provider name. */
    readonly provider: string;
    /** Service type. */
    readonly service: string;
    /** Seconds the maintenance may last at most: `until` is this far after it starts. */
    readonly downtimeSeconds: number;
  };
}

/** How the scheduler reaches the monitor, for rotations that need maintenance. */
export interface RotatorHooks {
  /**
   * Puts a provider in maintenance until `until`, before the rotator's `apply` step. When it
   * fails, the rotation fails at the `maintenance` step.
   */
  enterMaintenance(provider: string, service: string, until: Date, reason: string): Promise<void>;
  /** Takes the provider out of maintenance once the rotation ends; its errors are ignored. */
  exitMaintenance(provider: string, service: string, reason: string): Promise<void>;
}

/** How an automated rotation ended. */
export type RotatorOutcome =
  | {
      /** The rotation completed: the new version is current. */
      readonly status: 'completed';
      /** The new version's label. */
      readonly version: string;
      /** The new secret's fingerprint. */
      readonly fingerprint: string;
    }
  | {
      /** The rotation failed; the current version stays. */
      readonly status: 'failed';
      /** The step that failed: `create`, `maintenance`, `apply`, `test`, `finish`, `complete`. */
      readonly step: string;
      /** The reason recorded on the rotation: the step, and the error's code or class. */
      readonly reason: string;
    };

/** Names an error by its code or class: never by its message, which may hold the secret. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') {
    return String(code);
  }

  return error instanceof Error ? error.name : typeof error;
}

/** An error of a named step: its message names the step and the cause's code only. */
function stepError(name: string, error: unknown): Error & { step: string } {
  return Object.assign(new Error(`${name} failed: ${describe(error)}`), { step: name });
}

/**
 * Runs a rotator's steps for a rotation that has been started, then completes the rotation
 * with the new secret's fingerprint, or fails it. The new value lives only in this call.
 *
 * A failed rotation's reason names the step (`create`, `maintenance`, `apply`, `test`,
 * `finish` or `complete`) and the error's code or class, never its message.
 */
export async function runRotator(
  secrets: SecretsManager,
  ref: { rotationId: string; scope: string; keyName: string },
  rotator: Rotator,
  options: { actor: string; hooks?: RotatorHooks },
): Promise<RotatorOutcome> {
  const wanted = rotator.retries ?? 2;
  // A count that is not a small integer (NaN, Infinity) would retry forever.
  const retries = Number.isInteger(wanted) && wanted >= 0 ? Math.min(wanted, 10) : 2;
  const step = async <T>(name: string, run: (context: RotationContext) => Promise<T> | T) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run({ ...ref, attempt });
      } catch (error) {
        if (attempt > retries) {
          throw stepError(name, error);
        }
      }
    }
  };

  const maintenance = rotator.maintenance;
  let maintenanceStarted: number | undefined;
  try {
    const secret = await step('create', (context) => rotator.create(context));
    if (maintenance && options.hooks) {
      const until = new Date(Date.now() + maintenance.downtimeSeconds * 1000);
      try {
        await options.hooks.enterMaintenance(
          maintenance.provider,
          maintenance.service,
          until,
          `rotating ${ref.scope}/${ref.keyName}`,
        );
      } catch (error) {
        throw stepError('maintenance', error);
      }
      maintenanceStarted = Date.now();
    }
    await step('apply', (context) => rotator.apply(context, secret));
    await step('test', (context) => rotator.test(context, secret));
    await step('finish', (context) => rotator.finish?.(context, secret));
    const print = fingerprint(
      secret.value,
      rotator.hmacKey === undefined ? {} : { hmacKey: rotator.hmacKey },
    );
    const downtimeSeconds =
      maintenanceStarted === undefined ? 0 : Math.ceil((Date.now() - maintenanceStarted) / 1000);
    await secrets.completeRotation(ref.rotationId, {
      version: secret.version,
      fingerprint: print,
      affectedServices: [...(rotator.affectedServices ?? [])],
      downtimeSeconds,
      actor: options.actor,
    });

    return { status: 'completed', version: secret.version, fingerprint: print };
  } catch (error) {
    const failed =
      (error as { step?: unknown }).step === undefined
        ? stepError('complete', error)
        : (error as Error & { step: string });
    await secrets.failRotation(ref.rotationId, { reason: failed.message, actor: options.actor });

    return { status: 'failed', step: failed.step, reason: failed.message };
  } finally {
    if (maintenance && options.hooks && maintenanceStarted !== undefined) {
      await options.hooks
        .exitMaintenance(maintenance.provider, maintenance.service, 'rotation finished')
        .catch(() => undefined);
    }
  }
}
