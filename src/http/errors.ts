import { isM28Error, M28Error } from '../errors/M28Error.js';
import type { ValidationError } from '../errors/ValidationError.js';

/** The body of every error response: the same shape for every status. */
export interface ErrorBody {
  /** What went wrong. */
  error: {
    /** Stable code, such as `M28_VALIDATION` or `M28_ROTATION_IN_PROGRESS`. */
    code: string;
    /** What went wrong, in words. Never a secret. */
    message: string;
    /** For 400: each bad field and the rule it broke. */
    fields?: {
      /** The field, such as `reason`. */
      field: string;
      /** The rule it broke, such as `must not be blank`. */
      rule: string;
    }[];
  };
}

/**
 * An HTTP-level refusal: 400 (malformed JSON, a bad request target), 401, 403 (a role the
 * database does not know), 404, 405, 413, 415 or 503 (no store).
 */
export class HttpError extends M28Error {
  /** The HTTP status. */
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  M28_VALIDATION: 400,
  M28_PERMISSION_DENIED: 403,
  M28_NOT_FOUND: 404,
  M28_ROTATION_IN_PROGRESS: 409,
  M28_ROTATION_NOT_OPEN: 409,
  M28_ROTATION_NOT_DUE: 409,
  M28_NO_PREVIOUS_VERSION: 409,
  M28_SECRET_RETIRED: 409,
  M28_NO_STORE: 503,
};

/**
 * Statuses whose message is fixed. A 404's message may repeat the names asked for, and a
 * caller may have put a key there; a 403's names the table or function; a 500's may hold
 * anything.
 */
const FIXED_MESSAGES: Readonly<Record<number, string>> = {
  403: 'the role may not do this',
  404: 'not found, or not visible to the role',
  500: 'internal error',
};

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * Maps an error to its status and the common error body. Unknown errors are 500 with a
 * generic message: their text may hold anything, so it is not sent.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    const headers: Record<string, string> =
      error.status === 401 ? { 'www-authenticate': 'Bearer' } : {};

    return json(error.status, { error: { code: error.code, message: error.message } }, headers);
  }

  if (isM28Error(error)) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    const body: ErrorBody = {
      error: { code: error.code, message: FIXED_MESSAGES[status] ?? error.message },
    };
    if (error.code === 'M28_VALIDATION') {
      body.error.fields = (error as ValidationError).issues.map(({ field, rule }) => ({
        field,
        rule,
      }));
    }

    return json(status, body);
  }

  return json(500, { error: { code: 'M28_INTERNAL', message: 'internal error' } });
}
