import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a fake API answers right now: as the real one does, or 503 to every request. */
export type FakeMode = 'ok' | 'unavailable';

/** A request as a fake API sees it: method, path, query and the form-encoded body. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly form: URLSearchParams;
  readonly authorization: string;
}

/** What a fake API answers: a status, a JSON body, and headers. */
export interface FakeAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** A node:http server on 127.0.0.1 with a free port. */
export interface LoopbackServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, answer: FakeAnswer): void {
  const body = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...answer.headers,
  });
  response.end(body);
}

/** Serves `handle` on 127.0.0.1. Nothing but loopback is ever listened on or called. */
export async function serveLoopback(
  handle: (request: FakeRequest) => FakeAnswer,
): Promise<LoopbackServer> {
  const server = createServer((request, response) => {
    readBody(request)
      .then((text) => {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        const contentType = request.headers['content-type'] ?? '';
        send(
          response,
          handle({
            method: request.method ?? 'GET',
            path: url.pathname,
            query: url.searchParams,
            form: new URLSearchParams(contentType.includes('urlencoded') ? text : ''),
            authorization: request.headers.authorization ?? '',
          }),
        );
      })
      .catch((error: unknown) => {
        send(response, { status: 500, body: { error: { message: String(error) } } });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // The SDKs keep sockets alive: close them, or the process waits for their timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A random id with Stripe's or Twilio's look: a prefix and `length` characters. */
export function fakeId(prefix: string, length: number, alphabet = '0123456789abcdef'): string {
  let id = prefix;
  for (let i = 0; i < length; i += 1) {
    id += alphabet[Math.floor(Math.random() * alphabet.length)];
  }

  return id;
}
