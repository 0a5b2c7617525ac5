import { z } from 'zod';

const blank = 'must not be blank';

/** An identifier such as a scope, key name, version or provider: 1 to 100 characters. */
export const nameSchema = z
  .string()
  .trim()
  .min(1, blank)
  .max(100, 'must be at most 100 characters');

/** Who did it: 1 to 200 characters. */
export const actorSchema = z
  .string()
  .trim()
  .min(1, blank)
  .max(200, 'must be at most 200 characters');

/** Why: 1 to 1000 characters. */
export const reasonSchema = z
  .string()
  .trim()
  .min(1, blank)
  .max(1000, 'must be at most 1000 characters');

/** The request or incident an action belongs to: at most 200 characters. */
export const requestIdSchema = z.string().max(200, 'must be at most 200 characters');

/**
 * A provider or service name. "/" joins the two in the breakers' keys, so a name holding one
 * could reach another provider's breaker.
 */
export const providerPartSchema = nameSchema.refine(
  (value) => !value.includes('/'),
  'must not contain "/"',
);
