import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a fake provider answers right now. */
export type FakeMode = 'ok' | 'failing' | 'slow';

/** A provider API on loopback that answers as told: 200, 503, or too slowly. */
export interface FakeProvider {
  readonly name: string;
  readonly url: string;
  mode: FakeMode;
  close(): Promise<void>;
}

/** Starts a fake provider on 127.0.0.1 with a free port. */
export async function startFakeProvider(name: string, slowMs = 1500): Promise<FakeProvider> {
  const state = { mode: 'ok' as FakeMode };
  const server: Server = createServer((request, response) => {
    const answer = () => {
      const status = state.mode === 'failing' ? 503 : 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ provider: name, ok: status === 200 }));
    };
    if (state.mode === 'slow') {
      setTimeout(answer, slowMs).unref();
    } else {
      answer();
    }
    request.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    name,
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: FakeMode) {
      state.mode = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Calls a fake provider; rejects with the HTTP status as `status` on a non-2xx answer. */
export async function callProvider(provider: FakeProvider, path: string): Promise<unknown> {
  const response = await fetch(provider.url + path, { method: 'POST' });
  if (!response.ok) {
    throw Object.assign(new Error(`${provider.name} answered ${response.status}`), {
      status: response.status,
    });
  }

  return response.json();
}
