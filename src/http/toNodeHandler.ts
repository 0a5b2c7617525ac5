import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

import { errorResponse, HttpError } from './errors.js';

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The request's URL. The Host header and the request target come from the client as-is: a
 * bad one is a 400, never an exception in the server's request listener.
 */
function urlOf(request: IncomingMessage): URL {
  // Express strips its mount path from `url`; `originalUrl` keeps it.
  const target = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/';
  try {
    if (ABSOLUTE_FORM.test(target)) {
      // An absolute-form target (as sent to a proxy): only its path and query route.
      const absolute = new URL(target);

      return new URL(`http://localhost${absolute.pathname}${absolute.search}`);
    }

    if (target.startsWith('/')) {
      // Concatenated, not resolved: `new URL('//elsewhere/x', base)` would change the host.
      return new URL(`http://${request.headers.host ?? 'localhost'}${target}`);
    }
  } catch {
    // Falls through to the 400 below.
  }

  throw new HttpError(400, 'M28_BAD_REQUEST', 'the request target or Host header is invalid');
}

function toWebRequest(request: IncomingMessage, url: URL): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) {
      value.forEach((item) => headers.append(name, item));
    } else if (value !== undefined) {
      headers.set(name, value);
    }
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';

  return new Request(url, {
    method: request.method ?? 'GET',
    headers,
    ...(hasBody
      ? { body: Readable.toWeb(request) as ReadableStream, duplex: 'half' as const }
      : {}),
  });
}

/**
 * Adapts a fetch handler to node:http and Express:
 * `http.createServer(toNodeHandler(handler))` or `app.use('/ops', toNodeHandler(handler))`.
 * The returned listener never rejects: whatever goes wrong is answered with the common error
 * body.
 */
export function toNodeHandler(
  handler: (request: Request) => Promise<Response>,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    let answer: Response;
    let body: Buffer;
    try {
      answer = await handler(toWebRequest(request, urlOf(request)));
      body = Buffer.from(await answer.arrayBuffer());
    } catch (error) {
      answer = errorResponse(error);
      body = Buffer.from(await answer.arrayBuffer());
    }

    if (!response.headersSent) {
      response.statusCode = answer.status;
      answer.headers.forEach((value, name) => response.setHeader(name, value));
    }
    response.end(body);
    if (!request.readableEnded) {
      // The handler stopped reading (a body over the limit, say): drop the rest.
      request.resume();
    }
  };
}
