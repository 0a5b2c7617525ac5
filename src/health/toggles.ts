import { sql } from 'drizzle-orm';
import { z } from 'zod';

import { m28RoleSchema, type HealthStatus, type M28Role } from '../domain/vocabularies.js';
import {
  actorSchema,
  providerPartSchema,
  reasonSchema,
  requestIdSchema,
} from '../domain/fields.js';
import { ValidationError } from '../errors/ValidationError.js';
import { toFieldIssues } from '../breakers/options.js';
import type { M28Store } from '../store/M28Store.js';

const name = providerPartSchema;
const actor = actorSchema;
const reason = reasonSchema;

/** What an operator asks of `toggle()`. */
export interface ToggleInput {
  /** Provider name, such as `stripe`. */
  readonly provider: string;
  /** Service type, such as `payment`. */
  readonly service: string;
  /** Whether calls may reach the provider. */
  readonly enabled: boolean;
  /** Why: written to the audit log and the operational events. */
  readonly reason: string;
  /** Who: a user id, an email or a service name. */
  readonly actor: string;
  /**
   * Puts the provider in maintenance: calls are blocked, status reads `maintenance`.
   * @defaultValue false
   */
  readonly maintenanceMode?: boolean;
  /** When maintenance ends by itself. Needs `maintenanceMode`. */
  readonly until?: Date;
  /** The request or incident this belongs to. */
  readonly requestId?: string;
  /**
   * The PostgreSQL role the change runs as; row-level security decides.
   * @defaultValue `'m28_admin'`
   */
  readonly role?: M28Role;
}

/** What an operator asks of `resetBreaker()`. */
export interface ResetBreakerInput {
  /** Provider name, such as `stripe`. */
  readonly provider: string;
  /** Service type, such as `payment`. */
  readonly service: string;
  /** Who: a user id, an email or a service name. */
  readonly actor: string;
  /** Why: written to the audit log and the operational events. */
  readonly reason: string;
  /** The request or incident this belongs to. */
  readonly requestId?: string;
  /**
   * The PostgreSQL role the reset runs as; row-level security decides.
   * @defaultValue `'m28_admin'`
   */
  readonly role?: M28Role;
}

const toggleSchema = z.strictObject({
  provider: name,
  service: name,
  enabled: z.boolean(),
  reason,
  actor,
  maintenanceMode: z.boolean().optional(),
  until: z.date().optional(),
  requestId: requestIdSchema.optional(),
  role: m28RoleSchema.optional(),
});

const resetSchema = z.strictObject({
  provider: name,
  service: name,
  actor,
  reason,
  requestId: requestIdSchema.optional(),
  role: m28RoleSchema.optional(),
});

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(toFieldIssues(parsed.error, input));
  }

  return parsed.data;
}

/**
 * Validates a toggle: names trimmed, no unknown key, `until` only with `maintenanceMode`.
 * @throws {@link ValidationError} naming the field, the rule and the value received.
 * @internal
 */
export function parseToggleInput(input: ToggleInput) {
  const value = parse(toggleSchema, input);
  if (value.until && !value.maintenanceMode) {
    throw new ValidationError([
      { field: 'until', rule: 'requires maintenanceMode', received: value.until },
    ]);
  }

  return value;
}

/**
 * Validates a toggle and runs `m28.toggle_provider()` under the caller's role.
 * @throws {@link ValidationError} for bad input, before any query.
 * @internal
 */
export async function callToggleProvider(store: M28Store, input: ToggleInput) {
  const value = parseToggleInput(input);
  const rows = await store.withRole(value.role ?? 'm28_admin', (tx) =>
    store.query<{ status: HealthStatus }>(
      sql`select m28.toggle_provider(
        ${value.provider}, ${value.service}, ${value.enabled}, ${value.reason}, ${value.actor},
        ${value.maintenanceMode ?? false}, ${value.until?.toISOString() ?? null}::timestamptz,
        ${value.requestId ?? null}) as status`,
      tx,
    ),
  );

  return { ...value, status: rows[0]?.status ?? 'healthy' };
}

/**
 * Validates a reset and runs `m28.reset_circuit_breaker()` under the caller's role.
 * @throws {@link ValidationError} for bad input, before any query.
 * @internal
 */
export async function callResetBreaker(store: M28Store, input: ResetBreakerInput) {
  const value = parse(resetSchema, input);
  await store.withRole(value.role ?? 'm28_admin', (tx) =>
    store.query(
      sql`select m28.reset_circuit_breaker(
        ${value.provider}, ${value.service}, ${value.reason}, ${value.actor},
        ${value.requestId ?? null})`,
      tx,
    ),
  );

  return value;
}
