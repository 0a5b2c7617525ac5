import { z } from 'zod';

import { isFingerprint } from '../secrets/fingerprint.js';

const blank = 'must not be blank';
const name = z.string().trim().min(1, blank).max(100, 'must be at most 100 characters');
// The breakers key a provider by "provider/service": a "/" in either could reach another's.
const providerPart = name.refine((value) => !value.includes('/'), 'must not contain "/"');
/** The largest PostgreSQL `integer`. */
const MAX_INT4 = 2_147_483_647;
const reason = z.string().trim().min(1, blank).max(1000, 'must be at most 1000 characters');
const requestId = z.string().max(200, 'must be at most 200 characters').optional();

/** `POST /admin/providers/toggle`, as in the spec. */
export const toggleBody = z
  .strictObject({
    provider_name: providerPart,
    service_type: providerPart,
    enabled: z.boolean(),
    reason,
    maintenance_mode: z.boolean().optional(),
    maintenance_until: z.iso.datetime({ offset: true }).optional(),
    request_id: requestId,
  })
  .refine((body) => body.maintenance_until === undefined || body.maintenance_mode === true, {
    message: 'requires maintenance_mode',
    path: ['maintenance_until'],
  });

/** `POST /admin/providers/reset`. */
export const resetBody = z.strictObject({
  provider_name: providerPart,
  service_type: providerPart,
  reason,
  request_id: requestId,
});

/** `POST /admin/secrets/rotate`, as in the spec. */
export const rotateBody = z.strictObject({
  scope: name,
  key_name: name,
  rotation_type: z.enum(['scheduled', 'emergency', 'manual']),
  force_rotation: z.boolean().optional(),
  request_id: requestId,
});

/** `POST /admin/secrets/rotations/:id/complete`. */
export const completeBody = z.strictObject({
  new_version: name,
  fingerprint: z.custom<string>(isFingerprint, {
    message: 'must be sha256:<64 lowercase hex> or hmac-sha256:<64 lowercase hex>',
  }),
  affected_services: z.array(name).max(100, 'must have at most 100 entries'),
  downtime_seconds: z
    .number()
    .int('must be an integer')
    .min(0, 'must be >= 0')
    .max(MAX_INT4, `must be at most ${MAX_INT4}`),
});

/** `POST /admin/secrets/rotations/:id/fail` and `/cancel`. */
export const endBody = z.strictObject({ reason });

/** `POST /admin/secrets/rollback`. */
export const rollbackBody = z.strictObject({
  scope: name,
  key_name: name,
  reason,
  request_id: requestId,
});

/** Query of `GET /admin/providers/health`. */
export const healthQuery = z.strictObject({ provider: name.optional() });

/** Query of `GET /admin/secrets/status`. */
export const statusQuery = z.strictObject({ scope: name.optional() });

/** Query of `GET /admin/providers/events`. */
export const eventsQuery = z.strictObject({
  provider: name.optional(),
  severity: z.enum(['info', 'warning', 'error', 'critical']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Query of `GET /admin/secrets/rotations`. */
export const rotationsQuery = z.strictObject({
  scope: name.optional(),
  key_name: name.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
