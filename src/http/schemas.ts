import { z } from 'zod';

import {
  nameSchema as name,
  providerPartSchema as providerPart,
  reasonSchema as reason,
  requestIdSchema,
} from '../domain/fields.js';
import { affectedServicesSchema, downtimeSchema, fingerprintSchema } from '../secrets/inputs.js';

const requestId = requestIdSchema.optional();

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
  fingerprint: fingerprintSchema,
  affected_services: affectedServicesSchema,
  downtime_seconds: downtimeSchema,
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
