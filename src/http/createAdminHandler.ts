import { M28_ROLES, type M28Role } from '../domain/vocabularies.js';
import { ValidationError } from '../errors/ValidationError.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import { parseInput } from '../secrets/inputs.js';
import type { SecretsManager } from '../secrets/SecretsManager.js';
import type { M28Store } from '../store/M28Store.js';
import { readJson } from './body.js';
import { errorResponse, HttpError } from './errors.js';
import { adminRoutes } from './routes.js';

/** A role as `authenticate` may name it: the group role, or its short name. */
export type AdminRole =
  M28Role | 'superadmin' | 'admin' | 'monitor' | 'reader' | 'client' | 'system';

/** Who is calling, as the host's `authenticate` says. */
export interface AdminPrincipal {
  /** Recorded as the actor of every change: a user id, an email or a service name. */
  readonly actor: string;
  /** The PostgreSQL role the request's database work runs as. */
  readonly role: AdminRole;
}

/** What the handler serves: the parts of `createOps()` with a store. */
export interface AdminTarget {
  /** Where health, events and rotations are read; without one, those routes answer 503. */
  readonly store: M28Store | undefined;
  /** Applies toggles and breaker resets. */
  readonly monitor: ProviderHealthMonitor;
  /** Serves the secrets routes; without one, they answer 503 (`M28_NO_STORE`). */
  readonly secrets: SecretsManager | undefined;
  /** Prometheus text for `GET /metrics`, when there is one. */
  metrics?(): Promise<string> | string;
}

/** Options of {@link createAdminHandler}. */
export interface AdminHandlerOptions {
  /** Maps a request to its caller, or to null, which is answered 401. */
  authenticate(request: Request): Promise<AdminPrincipal | null> | AdminPrincipal | null;
  /**
   * Prefix before `/admin/...` and `/metrics`, such as `/ops`.
   * @defaultValue `''`
   */
  readonly basePath?: string;
  /**
   * Largest request body, in bytes; larger ones get 413.
   * @defaultValue 65536
   */
  readonly maxBodyBytes?: number;
  /**
   * A provider with no health check for this long reads `stale`.
   * @defaultValue 600000 (the runbook's 10 minutes)
   */
  readonly staleAfterMs?: number;
}

/** Validates a numeric option; `undefined` takes the default. */
function resolveOption(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) {
    return fallback;
  }

  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError([
      { field, rule: `must be an integer from 1 to ${max}`, received: value },
    ]);
  }

  return value;
}

/** The group role of a principal, or undefined when `authenticate` named no M28 role. */
function toRole(role: unknown): M28Role | undefined {
  const name = typeof role === 'string' && !role.startsWith('m28_') ? `m28_${role}` : role;

  return (M28_ROLES as readonly unknown[]).includes(name) ? (name as M28Role) : undefined;
}

/**
 * The admin API as a fetch handler, `(Request) => Promise<Response>`: it mounts as-is in
 * Hono, Next.js route handlers, Bun and Deno; {@link toNodeHandler} adapts it to node:http and
 * Express. Each request's database work runs in a transaction under `SET LOCAL ROLE` for the
 * caller's role, so row-level security allows or denies; the handler checks no role itself.
 *
 * @throws {@link ValidationError} when `maxBodyBytes` or `staleAfterMs` is not a positive
 *   integer: a NaN limit would let every body through.
 * @example
 * ```ts
 * const handler = createAdminHandler(ops, { authenticate: (request) => verify(request) });
 * http.createServer(toNodeHandler(handler)).listen(8080);
 * ```
 */
export function createAdminHandler(
  target: AdminTarget,
  options: AdminHandlerOptions,
): (request: Request) => Promise<Response> {
  const base = (options.basePath ?? '').replace(/\/$/, '');
  const limit = resolveOption('maxBodyBytes', options.maxBodyBytes, 65_536, 2 ** 30);
  const staleAfterMs = resolveOption('staleAfterMs', options.staleAfterMs, 600_000, 2 ** 31 - 1);
  const routes = adminRoutes(target, staleAfterMs);

  return async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(base)) {
        throw new HttpError(404, 'M28_NO_ROUTE', 'no such endpoint');
      }
      const path = url.pathname.slice(base.length) || '/';
      const matches = routes
        .map((route) => [route, route[1].exec(path)] as const)
        .filter(([, match]) => match !== null);
      if (matches.length === 0) {
        throw new HttpError(404, 'M28_NO_ROUTE', 'no such endpoint');
      }
      const found = matches.find(([route]) => route[0] === request.method);
      if (!found) {
        const allowed = matches.map(([route]) => route[0]).join(', ');
        const response = errorResponse(
          new HttpError(405, 'M28_METHOD_NOT_ALLOWED', `use ${allowed}`),
        );
        response.headers.set('allow', allowed);

        return response;
      }

      const principal = await options.authenticate(request);
      if (!principal) {
        throw new HttpError(401, 'M28_UNAUTHENTICATED', 'authentication required');
      }

      // A role the database does not know grants nothing; its name is not echoed.
      const role = toRole(principal.role);
      if (!role) {
        throw new HttpError(403, 'M28_PERMISSION_DENIED', 'the role may not do this');
      }

      const [route, match] = found;

      return await route[2]({
        request,
        url,
        role,
        actor: principal.actor,
        params: match!.slice(1),
        body: async (schema) => parseInput(schema, await readJson(request, limit)),
        query: (schema) => parseInput(schema, Object.fromEntries(url.searchParams)),
      });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
