import type { z } from 'zod';

import type { M28Role } from '../domain/vocabularies.js';
import type { AdminTarget } from './createAdminHandler.js';
import { HttpError, json } from './errors.js';
import { readEvents, readHealth, readRotations } from './queries.js';
import {
  completeBody,
  endBody,
  eventsQuery,
  healthQuery,
  resetBody,
  rollbackBody,
  rotateBody,
  rotationsQuery,
  statusQuery,
  toggleBody,
} from './schemas.js';

/** What a route gets: the request, the caller, and parsers that answer 400 for bad input. */
export interface RouteContext {
  readonly request: Request;
  readonly url: URL;
  readonly role: M28Role;
  readonly actor: string;
  readonly params: readonly string[];
  body<T>(schema: z.ZodType<T>): Promise<T>;
  query<T>(schema: z.ZodType<T>): T;
}

/** A method, a path pattern whose groups become `params`, and what answers it. */
export type Route = readonly [
  method: string,
  pattern: RegExp,
  run: (context: RouteContext) => Promise<Response>,
];

// How many of the newest operational events GET /admin/providers/health carries.
const RECENT_EVENTS = 20;

const HEX = '[0-9a-fA-F]';
const UUID = `(${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12})`;

/**
 * The admin API's routes over `target`. Each one's database work runs under the caller's
 * role; row-level security allows or denies.
 * @internal
 */
export function adminRoutes(target: AdminTarget, staleAfterMs: number): Route[] {
  const store = () => {
    if (!target.store) {
      throw new HttpError(503, 'M28_NO_STORE', 'the admin API needs a store');
    }

    return target.store;
  };
  const secrets = () => {
    if (!target.secrets) {
      throw new HttpError(503, 'M28_NO_STORE', 'the admin API needs a store');
    }

    return target.secrets;
  };

  return [
    [
      'GET',
      /^\/admin\/providers\/health$/,
      async ({ role, query }) => {
        const { provider } = query(healthQuery);
        const health = await readHealth(store(), role, provider, staleAfterMs);
        // The spec's endpoint returns "provider status, circuit breaker state, recent events".
        const events = await readEvents(store(), role, { provider, limit: RECENT_EVENTS });

        return json(200, { ...health, recent_events: events });
      },
    ],
    [
      'POST',
      /^\/admin\/providers\/toggle$/,
      async ({ role, actor, body }) => {
        const input = await body(toggleBody);
        const status = await target.monitor.toggle({
          provider: input.provider_name,
          service: input.service_type,
          enabled: input.enabled,
          reason: input.reason,
          actor,
          role,
          maintenanceMode: input.maintenance_mode ?? false,
          ...(input.maintenance_until ? { until: new Date(input.maintenance_until) } : {}),
          ...(input.request_id ? { requestId: input.request_id } : {}),
        });

        // The monitor derives statuses only for the providers it checks; the row the toggle
        // wrote is what GET /admin/providers/health reports, so answer with that.
        const { providers } = await readHealth(store(), role, input.provider_name, staleAfterMs);
        const row = providers.find((p) => p.service_type === input.service_type);

        return json(200, {
          provider_name: input.provider_name,
          service_type: input.service_type,
          enabled: input.enabled,
          maintenance_mode: input.maintenance_mode ?? false,
          status: row?.status ?? status,
        });
      },
    ],
    [
      'POST',
      /^\/admin\/providers\/reset$/,
      async ({ role, actor, body }) => {
        const input = await body(resetBody);
        await target.monitor.resetBreaker({
          provider: input.provider_name,
          service: input.service_type,
          reason: input.reason,
          actor,
          role,
          ...(input.request_id ? { requestId: input.request_id } : {}),
        });

        return json(200, {
          provider_name: input.provider_name,
          service_type: input.service_type,
          circuit_breaker_state: 'closed',
        });
      },
    ],
    [
      'GET',
      /^\/admin\/providers\/events$/,
      async ({ role, query }) => {
        const filter = query(eventsQuery);

        return json(200, { events: await readEvents(store(), role, filter) });
      },
    ],
    [
      'GET',
      /^\/admin\/secrets\/status$/,
      async ({ role, query }) => {
        const { scope } = query(statusQuery);

        return json(200, await secrets().status({ role, ...(scope ? { scope } : {}) }));
      },
    ],
    [
      'POST',
      /^\/admin\/secrets\/rotate$/,
      async ({ role, actor, body }) => {
        const input = await body(rotateBody);
        const { rotationId } = await secrets().startRotation({
          scope: input.scope,
          keyName: input.key_name,
          rotationType: input.rotation_type,
          force: input.force_rotation ?? false,
          actor,
          role,
          ...(input.request_id ? { requestId: input.request_id } : {}),
        });

        return json(201, {
          rotation_id: rotationId,
          scope: input.scope,
          key_name: input.key_name,
          rotation_type: input.rotation_type,
          status: 'in_progress',
        });
      },
    ],
    [
      'POST',
      new RegExp(`^/admin/secrets/rotations/${UUID}/complete$`),
      async ({ role, actor, body, params }) => {
        const input = await body(completeBody);
        await secrets().completeRotation(params[0]!, {
          version: input.new_version,
          fingerprint: input.fingerprint,
          affectedServices: input.affected_services,
          downtimeSeconds: input.downtime_seconds,
          actor,
          role,
        });

        return json(200, { rotation_id: params[0], status: 'completed' });
      },
    ],
    [
      'POST',
      new RegExp(`^/admin/secrets/rotations/${UUID}/(fail|cancel)$`),
      async ({ role, actor, body, params }) => {
        const input = await body(endBody);
        const end = { reason: input.reason, actor, role };
        if (params[1] === 'fail') {
          await secrets().failRotation(params[0]!, end);
        } else {
          await secrets().cancelRotation(params[0]!, end);
        }

        return json(200, {
          rotation_id: params[0],
          status: params[1] === 'fail' ? 'failed' : 'cancelled',
        });
      },
    ],
    [
      'POST',
      /^\/admin\/secrets\/rollback$/,
      async ({ role, actor, body }) => {
        const input = await body(rollbackBody);
        const { rotationId } = await secrets().rollback({
          scope: input.scope,
          keyName: input.key_name,
          reason: input.reason,
          actor,
          role,
          ...(input.request_id ? { requestId: input.request_id } : {}),
        });

        return json(200, { rotation_id: rotationId, rotation_type: 'rollback' });
      },
    ],
    [
      'GET',
      /^\/admin\/secrets\/rotations$/,
      async ({ role, query }) => {
        const filter = query(rotationsQuery);

        return json(200, { rotations: await readRotations(store(), role, filter) });
      },
    ],
    [
      'GET',
      /^\/metrics$/,
      async ({ role }) => {
        // The metrics read the health rows under the caller's role, so RLS decides here too.
        await readHealth(store(), role, undefined, staleAfterMs);
        const text = target.metrics ? await target.metrics() : '';

        return new Response(text, {
          status: 200,
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        });
      },
    ],
  ];
}
