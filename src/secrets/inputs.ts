import { z } from 'zod';

import { toFieldIssues } from '../breakers/options.js';
import {
  dataClassificationSchema,
  keyTypeSchema,
  m28RoleSchema,
  rotationScheduleSchema,
  startableRotationTypeSchema,
} from '../domain/vocabularies.js';
import { ValidationError } from '../errors/ValidationError.js';
import { actorSchema, nameSchema, reasonSchema, requestIdSchema } from '../domain/fields.js';
import { isFingerprint } from './fingerprint.js';

export { actorSchema, nameSchema, reasonSchema, requestIdSchema };

const role = m28RoleSchema.optional();
/** The largest PostgreSQL `integer`: `downtime_seconds` is one. */
const MAX_INT4 = 2_147_483_647;
/** A fingerprint: anything else, a raw key above all, is refused. */
export const fingerprintSchema = z.custom<string>(isFingerprint, {
  message: 'must be sha256:<64 lowercase hex> or hmac-sha256:<64 lowercase hex>',
});
/** The services that took a new secret: at most 100 names. */
export const affectedServicesSchema = z.array(nameSchema).max(100, 'must have at most 100 entries');
/** Seconds of downtime: a PostgreSQL `integer` of at least 0. */
export const downtimeSchema = z
  .number()
  .int('must be an integer')
  .min(0, 'must be >= 0')
  .max(MAX_INT4, `must be at most ${MAX_INT4}`);

/** Input of `register()`. */
export const registerSchema = z.strictObject({
  scope: nameSchema,
  keyName: nameSchema,
  keyType: keyTypeSchema,
  rotationSchedule: rotationScheduleSchema.optional(),
  dataClassification: dataClassificationSchema.optional(),
  description: z.string().max(1000, 'must be at most 1000 characters').optional(),
  actor: actorSchema.optional(),
  role,
});

/** Input of `startRotation()`. */
export const startSchema = z.strictObject({
  scope: nameSchema,
  keyName: nameSchema,
  rotationType: startableRotationTypeSchema,
  force: z.boolean().optional(),
  actor: nameSchema,
  requestId: requestIdSchema.optional(),
  role,
});

/** Input of `completeRotation()`. */
export const completeSchema = z.strictObject({
  version: nameSchema,
  fingerprint: fingerprintSchema,
  affectedServices: affectedServicesSchema,
  downtimeSeconds: downtimeSchema,
  actor: actorSchema.optional(),
  role,
});

/** Input of `failRotation()` and `cancelRotation()`. */
export const endSchema = z.strictObject({ reason: reasonSchema, actor: actorSchema, role });

/** Input of `rollback()`. */
export const rollbackSchema = z.strictObject({
  scope: nameSchema,
  keyName: nameSchema,
  reason: reasonSchema,
  actor: nameSchema,
  requestId: requestIdSchema.optional(),
  role,
});

/** Filter of `status()`. A read: other fields are ignored, as they always were. */
export const statusSchema = z.object({ scope: nameSchema.optional(), role });

/** Input of `history()`. A read: other fields, such as a secret's `id`, are ignored. */
export const historySchema = z.object({ scope: nameSchema, keyName: nameSchema, role });

/** A rotation id. */
export const rotationIdSchema = z.uuid('must be a UUID');

/**
 * Validates input against a schema.
 * @throws {@link ValidationError} naming every bad field and its rule. Every received value is
 *   redacted, vocabulary fields included: a caller may have put a secret anywhere, even in
 *   `keyType` or an unknown field. The rule lists the allowed values instead.
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, prefix = ''): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) {
    return parsed.data;
  }

  const issues = toFieldIssues(parsed.error, input, prefix).map((issue) => ({
    ...issue,
    received: '[redacted]',
  }));

  throw new ValidationError(issues);
}
