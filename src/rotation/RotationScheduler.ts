import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { SecretsManager } from '../secrets/SecretsManager.js';
import type { M28Store } from '../store/M28Store.js';
import type { StartableRotationType } from '../domain/vocabularies.js';
import { ValidationError } from '../errors/ValidationError.js';
import { activeDue, rotatingLate, type DueRow } from './dueSecrets.js';
import { checkSchedulerOptions } from './options.js';
import { runRotator, type Rotator, type RotatorHooks, type RotatorOutcome } from './runRotator.js';

const DAY_MS = 86_400_000;

/** The secret a scan row names, and how late it is by the database's clock (< 0: not due). */
function lateness(row: DueRow): { secret: DueSecret; lateMs: number } {
  const nextRotationAt = new Date(row.next_rotation_at);

  return {
    secret: { scope: row.scope, keyName: row.key_name, nextRotationAt },
    lateMs: new Date(row.now).getTime() - nextRotationAt.getTime(),
  };
}

/** A secret the scheduler found due, or soon due. */
export interface DueSecret {
  /** The secret's scope. */
  readonly scope: string;
  /** The secret's key name within the scope. */
  readonly keyName: string;
  /** When its next rotation is, or was, due. */
  readonly nextRotationAt: Date;
}

/** Events of {@link RotationScheduler}. */
export interface SchedulerEvents {
  /**
   * A secret's next rotation date has passed; `rotating` when a rotation of it is open but
   * not completed, which leaves it as late.
   */
  'rotation:due': (event: DueSecret & { lateMs: number; rotating: boolean }) => void;
  /**
   * A secret is a day late (`warning`) or a week late (`critical`), per the alert table;
   * `rotating` as in `rotation:due`.
   */
  'rotation:overdue': (
    event: DueSecret & { lateMs: number; level: 'warning' | 'critical'; rotating: boolean },
  ) => void;
  /** A secret with no automated rotator falls due within `dueSoonDays`: a human must act. */
  'rotation:reminder': (event: DueSecret & { dueInMs: number }) => void;
  /** An automated rotation's lease passed (its process stopped): it was failed. */
  'rotation:lease_expired': (event: { rotationId: string }) => void;
  /**
   * A scan finished: `due` active secrets were past their date (not counting those being
   * rotated), and it started `started` rotations.
   */
  'scheduler:scanned': (event: { due: number; started: number }) => void;
  /** A background task failed; the scheduler keeps running. */
  error: (error: Error) => void;
}

/** Options of {@link RotationScheduler}. */
export interface RotationSchedulerOptions {
  /** Where secrets' metadata lives; scans run as `m28_system`. */
  readonly store: M28Store;
  /**
   * Starts, completes and fails rotations; the rotations a scan starts are announced on its
   * `rotation:started`.
   */
  readonly secrets: SecretsManager;
  /**
   * Milliseconds between scans: a positive integer.
   * @defaultValue 60000
   */
  readonly intervalMs?: number;
  /**
   * Starts due scheduled rotations. Each due secret is started once across every instance
   * sharing the database.
   * @defaultValue false
   */
  readonly autoStart?: boolean;
  /**
   * Most rotations one scan starts: 1 to 10000.
   * @defaultValue 100
   */
  readonly batchSize?: number;
  /**
   * Days ahead that secrets without a rotator get reminders: 0 to 366.
   * @defaultValue 7
   */
  readonly dueSoonDays?: number;
  /**
   * Milliseconds an automated rotation may run before another scan may fail it as abandoned.
   * @defaultValue 900000
   */
  readonly rotationLeaseMs?: number;
  /** Automated rotators by scope. A due secret of such a scope is rotated end to end. */
  readonly rotators?: Readonly<Record<string, Rotator>>;
  /** Puts providers in maintenance for a rotation's downtime, when a rotator asks. */
  readonly hooks?: RotatorHooks;
  /**
   * The actor recorded for rotations the scheduler starts.
   * @defaultValue `'rotation-scheduler'`
   */
  readonly actor?: string;
}

/**
 * Scans for due and overdue secrets, emits reminders and alerts, and with `autoStart` starts
 * scheduled rotations, running a scope's automated rotator when there is one.
 */
export class RotationScheduler extends EventEmitter<SchedulerEvents> {
  readonly #store: M28Store;
  readonly #secrets: SecretsManager;
  readonly #intervalMs: number;
  readonly #autoStart: boolean;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #dueSoonMs: number;
  readonly #rotators: ReadonlyMap<string, Rotator>;
  readonly #hooks: RotatorHooks | undefined;
  readonly #actor: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #scanning: Promise<void> | undefined;
  readonly #running = new Set<Promise<unknown>>();

  /**
   * @throws {@link ValidationError} for an option out of range or a malformed rotator,
   *   naming the option.
   */
  constructor(options: RotationSchedulerOptions) {
    super();
    checkSchedulerOptions(options);
    this.#store = options.store;
    this.#secrets = options.secrets;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#autoStart = options.autoStart ?? false;
    this.#batchSize = options.batchSize ?? 100;
    this.#leaseMs = options.rotationLeaseMs ?? 900_000;
    this.#dueSoonMs = (options.dueSoonDays ?? 7) * DAY_MS;
    // A Map, so that a scope named like an Object.prototype member finds no rotator.
    this.#rotators = new Map(Object.entries(options.rotators ?? {}));
    this.#hooks = options.hooks;
    this.#actor = options.actor ?? 'rotation-scheduler';
  }

  /** Starts scanning every interval. Idempotent. */
  start(): void {
    if (this.#timer) {
      return;
    }

    this.#timer = setInterval(() => {
      this.scan().catch((error: unknown) => {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      });
    }, this.#intervalMs);
    this.#timer.unref?.();
  }

  /** Stops scanning and waits for rotations in flight. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#scanning?.catch(() => undefined);
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Starts a rotation of a secret whose scope has a rotator, and runs the rotator to the end:
   * an emergency rotation done by automation.
   * @throws {@link ValidationError} when the scope has no rotator; the errors of
   *   `startRotation()` when the rotation cannot start.
   */
  async rotateNow(input: {
    scope: string;
    keyName: string;
    actor: string;
    rotationType?: StartableRotationType;
    force?: boolean;
    requestId?: string;
  }): Promise<RotatorOutcome> {
    const rotator = this.#rotators.get(input.scope);
    if (!rotator) {
      throw new ValidationError([
        { field: 'scope', rule: 'has no rotator registered', received: '[redacted]' },
      ]);
    }

    const { rotationId } = await this.#secrets.startRotation({
      ...input,
      rotationType: input.rotationType ?? 'emergency',
    });
    const ref = { rotationId, scope: input.scope, keyName: input.keyName };

    return runRotator(this.#secrets, ref, rotator, {
      actor: input.actor,
      ...(this.#hooks ? { hooks: this.#hooks } : {}),
    });
  }

  /** Scans once now. A scan already running is joined, not doubled. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });

    return this.#scanning;
  }

  async #scan(): Promise<void> {
    // A rotation whose process died holds its secret until its lease passes: fail it, so
    // that the secret can be rotated again, below or by the next scan.
    const expired = await this.#store.withRole('m28_system', (tx) =>
      this.#store.query<{ rotation_id: string }>(
        sql`select rotation_id::text from m28.expire_rotation_leases(${this.#actor})`,
        tx,
      ),
    );
    for (const { rotation_id: rotationId } of expired) {
      this.emit('rotation:lease_expired', { rotationId });
    }

    const rows = await activeDue(this.#store, Math.ceil(this.#dueSoonMs / 1000));
    let due = 0;
    for (const row of rows) {
      const { secret, lateMs } = lateness(row);
      if (lateMs < 0) {
        if (!this.#rotators.has(secret.scope)) {
          this.emit('rotation:reminder', { ...secret, dueInMs: -lateMs });
        }
        continue;
      }

      due += 1;
      this.#late(secret, lateMs, false);
    }
    // A rotation left open (no rotator, or nobody completed it) leaves its secret late.
    for (const row of await rotatingLate(this.#store)) {
      const { secret, lateMs } = lateness(row);
      this.#late(secret, lateMs, true);
    }

    const started = this.#autoStart ? await this.#startDue() : 0;
    this.emit('scheduler:scanned', { due, started });
  }

  #late(secret: DueSecret, lateMs: number, rotating: boolean): void {
    this.emit('rotation:due', { ...secret, lateMs, rotating });
    if (lateMs >= DAY_MS) {
      const level = lateMs >= 7 * DAY_MS ? 'critical' : 'warning';
      this.emit('rotation:overdue', { ...secret, lateMs, level, rotating });
    }
  }

  async #startDue(): Promise<number> {
    const started = await this.#store.withRole('m28_system', async (tx) => {
      const rows = await this.#store.query<{
        rotation_id: string;
        scope: string;
        key_name: string;
      }>(
        sql`select rotation_id::text, scope, key_name
          from m28.start_due_rotations(${this.#actor}, ${this.#batchSize})`,
        tx,
      );
      // The rotations this process will run itself hold a lease while they run.
      const leased = rows.filter((row) => this.#rotators.has(row.scope));
      for (const row of leased) {
        await this.#store.query(
          sql`update m28.secrets_rotation_log set lease_expires_at =
              clock_timestamp() + make_interval(secs => ${this.#leaseMs / 1000})
            where id = ${row.rotation_id}::uuid`,
          tx,
        );
      }

      return rows;
    });
    for (const row of started) {
      this.#secrets.emit('rotation:started', {
        rotationId: row.rotation_id,
        scope: row.scope,
        keyName: row.key_name,
        rotationType: 'scheduled',
        actor: this.#actor,
      });
      const rotator = this.#rotators.get(row.scope);
      if (rotator) {
        this.#track(
          runRotator(
            this.#secrets,
            { rotationId: row.rotation_id, scope: row.scope, keyName: row.key_name },
            rotator,
            { actor: this.#actor, ...(this.#hooks ? { hooks: this.#hooks } : {}) },
          ),
        );
      }
    }

    return started.length;
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    });
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }
}
