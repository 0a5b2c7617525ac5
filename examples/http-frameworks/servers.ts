/**
 * The admin API mounted under `/ops` in two frameworks. Both mounts keep the full path, so
 * each handler is built with `basePath: '/ops'`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { serve, type ServerType } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';

import { toNodeHandler } from '../../src/index.js';

/** A fetch handler, as `createAdminHandler()` returns it. */
type FetchHandler = (request: Request) => Promise<Response>;

/** A server on loopback: its base URL, and how to stop it. */
export interface Running {
  readonly name: string;
  readonly base: string;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Express 5: `app.use('/ops', ...)` strips `/ops` from `req.url`, but `toNodeHandler` routes
 * on `req.originalUrl`, which keeps it.
 */
export async function startExpress(handler: FetchHandler): Promise<Running> {
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ app: 'host routes live beside the admin API' });
  });
  app.use('/ops', toNodeHandler(handler));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;

  return {
    name: 'express',
    base: `http://127.0.0.1:${port}/ops`,
    close: () => closeServer(server),
  };
}

/** Hono, served by @hono/node-server: the handler takes Hono's raw `Request` as it is. */
export async function startHono(handler: FetchHandler): Promise<Running> {
  const app = new Hono();
  app.get('/', (c) => c.json({ app: 'host routes live beside the admin API' }));
  app.all('/ops/*', (c) => handler(c.req.raw));
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ server: started, port: info.port }),
    );
  });

  return {
    name: 'hono',
    base: `http://127.0.0.1:${port}/ops`,
    close: () => closeServer(server as Server),
  };
}
