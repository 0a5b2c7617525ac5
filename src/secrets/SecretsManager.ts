import { sql } from 'drizzle-orm';
import { EventEmitter } from 'eventemitter3';

import type { M28Role } from '../domain/vocabularies.js';
import { NotFoundError } from '../errors/database.js';
import type { M28Database, M28Store } from '../store/M28Store.js';
import {
  completeSchema,
  endSchema,
  historySchema,
  parseInput,
  registerSchema,
  rollbackSchema,
  rotationIdSchema,
  startSchema,
  statusSchema,
} from './inputs.js';
import { toSecretStatus, type SecretRow, type SecretsStatusResponse } from './status.js';
import type {
  CompleteRotationInput,
  EndRotationInput,
  RegisterSecretInput,
  RollbackInput,
  RotationEntry,
  SecretsEvents,
  StartRotationInput,
} from './types.js';

/** Options of {@link SecretsManager}. */
export interface SecretsManagerOptions {
  /** Where secrets' metadata lives. */
  readonly store: M28Store;
  /**
   * The role calls run as unless they name one. `m28_system` sees restricted secrets; pass
   * an operator's role to act as that operator.
   * @defaultValue `'m28_system'`
   */
  readonly role?: M28Role;
}

/**
 * The secrets lifecycle: registration, status, and the rotation workflow. Every change goes
 * through an M28 SQL function, so the state machine and the audit row are enforced by the
 * database in one transaction. No secret value ever passes through here: only versions and
 * fingerprints.
 */
export class SecretsManager extends EventEmitter<SecretsEvents> {
  readonly #store: M28Store;
  readonly #role: M28Role;

  constructor(options: SecretsManagerOptions) {
    super();
    this.#store = options.store;
    this.#role = options.role ?? 'm28_system';
  }

  /**
   * Registers a secret; what is left out defaults from its key type. Registering one that
   * exists changes nothing.
   * @throws {@link ValidationError} for bad input, before any query.
   */
  async register(input: RegisterSecretInput): Promise<{
    /** The secret's id. */
    id: string;
    /** False when the secret existed already. */
    created: boolean;
  }> {
    const value = parseInput(registerSchema, input);
    const [row] = await this.#run(value.role, (tx) =>
      this.#store.query<{ secret_config_id: string; created: boolean }>(
        sql`select secret_config_id::text, created from m28.register_secret(
          ${value.scope}, ${value.keyName}, ${value.keyType}, ${value.actor ?? 'system'},
          ${value.rotationSchedule ?? null}, ${value.dataClassification ?? null},
          ${value.description ?? null})`,
        tx,
      ),
    );
    const result = { id: row!.secret_config_id, created: row!.created };
    if (result.created) {
      this.emit('secret:registered', { ...result, scope: value.scope, keyName: value.keyName });
    }

    return result;
  }

  /**
   * The spec's "Secrets Status Response", for every secret the role can see, or one scope.
   * @throws {@link ValidationError} for a bad filter, before any query.
   */
  async status(filter: { scope?: string; role?: M28Role } = {}): Promise<SecretsStatusResponse> {
    const value = parseInput(statusSchema, filter);
    const scope = value.scope ?? null;
    const rows = await this.#run(value.role, (tx) =>
      this.#store.query<SecretRow>(
        sql`select scope, key_name, key_type, rotation_schedule, status, last_rotated_at,
            next_rotation_at, data_classification, current_version, now() as now
          from m28.secrets_config
          where ${scope}::text is null or scope = ${scope}
          order by scope, key_name`,
        tx,
      ),
    );
    const secrets = rows.map(toSecretStatus);

    return {
      secrets,
      summary: {
        total_secrets: secrets.length,
        active: secrets.filter((s) => s.status === 'active').length,
        rotating: secrets.filter((s) => s.status === 'rotating').length,
        due_for_rotation: secrets.filter((s) => s.rotation_due).length,
      },
    };
  }

  /**
   * Starts a rotation. A non-forced scheduled or manual start on a secret that is not due is
   * refused; an emergency rotation always starts.
   * @throws {@link RotationInProgressError}, {@link RotationNotDueError},
   *   {@link NotFoundError}, {@link ValidationError}.
   */
  async startRotation(input: StartRotationInput): Promise<{
    /** The new rotation's id, to complete, fail or cancel it with. */
    rotationId: string;
  }> {
    const value = parseInput(startSchema, input);
    const rotationId = await this.#run(value.role, async (tx) => {
      const id = await this.#secretId(tx, value.scope, value.keyName);
      const [row] = await this.#store.query<{ id: string }>(
        sql`select m28.start_secret_rotation(${id}::uuid, ${value.rotationType}, ${value.actor},
          ${value.requestId ?? null}, ${value.force ?? false})::text as id`,
        tx,
      );

      return row!.id;
    });
    this.emit('rotation:started', {
      rotationId,
      scope: value.scope,
      keyName: value.keyName,
      rotationType: value.rotationType,
      actor: value.actor,
    });

    return { rotationId };
  }

  /**
   * Completes an open rotation: the new version and fingerprint become current, the old
   * ones are kept for rollback, and the next rotation date moves on.
   * @throws {@link RotationNotOpenError} when the rotation is not in progress;
   *   {@link ValidationError} for anything that is not a fingerprint (never echoed).
   */
  async completeRotation(rotationId: string, input: CompleteRotationInput): Promise<void> {
    parseInput(rotationIdSchema, rotationId, 'rotationId');
    const value = parseInput(completeSchema, input);
    // One parameter per service: an array literal built by hand would mangle backslashes.
    const services = sql`array[${sql.join(
      value.affectedServices.map((service) => sql`${service}::text`),
      sql`, `,
    )}]::text[]`;
    const entry = await this.#run(value.role, async (tx) => {
      await this.#store.query(
        sql`select m28.complete_secret_rotation(${rotationId}::uuid, ${value.version},
          ${value.fingerprint}, ${services}, ${value.downtimeSeconds},
          ${value.actor ?? 'system'})`,
        tx,
      );

      return this.#entry(tx, rotationId);
    });
    this.emit('rotation:completed', {
      rotationId,
      scope: entry.scope,
      keyName: entry.key_name,
      version: value.version,
      fingerprint: value.fingerprint,
    });
  }

  /** Marks an open rotation failed; the current version stays. */
  failRotation(rotationId: string, input: EndRotationInput): Promise<void> {
    return this.#end(rotationId, input, 'fail');
  }

  /** Cancels an open rotation; the current version stays. */
  cancelRotation(rotationId: string, input: EndRotationInput): Promise<void> {
    return this.#end(rotationId, input, 'cancel');
  }

  /**
   * Makes the previous version and fingerprint current again, logged as its own rotation of
   * type `rollback`. A second rollback undoes the first.
   * @throws {@link NoPreviousVersionError}, {@link RotationInProgressError}.
   */
  async rollback(input: RollbackInput): Promise<{
    /** The id of the rotation that records the rollback. */
    rotationId: string;
  }> {
    const value = parseInput(rollbackSchema, input);
    const rotationId = await this.#run(value.role, async (tx) => {
      const id = await this.#secretId(tx, value.scope, value.keyName);
      const [row] = await this.#store.query<{ id: string }>(
        sql`select m28.rollback_secret_rotation(${id}::uuid, ${value.reason}, ${value.actor},
          ${value.requestId ?? null})::text as id`,
        tx,
      );

      return row!.id;
    });
    this.emit('rotation:rolled_back', {
      rotationId,
      scope: value.scope,
      keyName: value.keyName,
      actor: value.actor,
    });

    return { rotationId };
  }

  /**
   * Every rotation of one secret, newest first: the history of its versions. Times are ISO
   * 8601 strings.
   * @throws {@link NotFoundError} when the role cannot see the secret; {@link ValidationError}.
   */
  async history(input: {
    scope: string;
    keyName: string;
    role?: M28Role;
  }): Promise<RotationEntry[]> {
    const value = parseInput(historySchema, input);
    const rows = await this.#run(value.role, async (tx) => {
      const id = await this.#secretId(tx, value.scope, value.keyName);

      return this.#store.query<RotationEntry>(
        sql`select id::text, rotation_type, status, initiated_by, initiated_at, request_id,
            completed_at, completed_by, previous_version, previous_fingerprint, new_version,
            new_fingerprint, affected_services, downtime_seconds, failure_reason
          from m28.secrets_rotation_log where secret_config_id = ${id}::uuid
          order by initiated_at desc, id`,
        tx,
      );
    });

    return rows.map((row) => ({
      ...row,
      initiated_at: new Date(row.initiated_at).toISOString(),
      completed_at: row.completed_at === null ? null : new Date(row.completed_at).toISOString(),
    }));
  }

  async #end(rotationId: string, input: EndRotationInput, kind: 'fail' | 'cancel') {
    parseInput(rotationIdSchema, rotationId, 'rotationId');
    const value = parseInput(endSchema, input);
    const fn = kind === 'fail' ? sql`m28.fail_secret_rotation` : sql`m28.cancel_secret_rotation`;
    const entry = await this.#run(value.role, async (tx) => {
      await this.#store.query(
        sql`select ${fn}(${rotationId}::uuid, ${value.reason}, ${value.actor})`,
        tx,
      );

      return this.#entry(tx, rotationId);
    });
    const event = kind === 'fail' ? 'rotation:failed' : 'rotation:cancelled';
    this.emit(event, {
      rotationId,
      scope: entry.scope,
      keyName: entry.key_name,
      reason: value.reason,
      actor: value.actor,
    });
  }

  #run<T>(role: M28Role | undefined, work: (tx: M28Database) => Promise<T>): Promise<T> {
    return this.#store.withRole(role ?? this.#role, work);
  }

  async #secretId(tx: M28Database, scope: string, keyName: string): Promise<string> {
    const [row] = await this.#store.query<{ id: string }>(
      sql`select id::text from m28.secrets_config where scope = ${scope}
        and key_name = ${keyName}`,
      tx,
    );
    if (!row) {
      // The names are not echoed: a caller may have put a secret in the wrong field.
      throw new NotFoundError('M28_NOT_FOUND', 'secret not found, or not visible to the role', {
        sqlState: '',
        column: 'key_name',
      });
    }

    return row.id;
  }

  async #entry(tx: M28Database, rotationId: string) {
    const [row] = await this.#store.query<{ scope: string; key_name: string }>(
      sql`select sc.scope, sc.key_name from m28.secrets_rotation_log l
        join m28.secrets_config sc on sc.id = l.secret_config_id
        where l.id = ${rotationId}::uuid`,
      tx,
    );

    return row ?? { scope: '', key_name: '' };
  }
}
