/**
 * Child processes for the many-instances tests: each runs a fixture under tsx, takes JSON
 * commands on stdin and reports JSON lines on stdout. Every child is killed after its file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { sql } from 'drizzle-orm';
import { afterAll } from 'vitest';

import { connectPostgres } from '../../src/index.js';
import { databaseUrlFor } from '../support/urls.js';

/** One JSON line a child printed. */
export type Message = { event: string } & Record<string, unknown>;

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A running fixture process. */
export interface Child {
  readonly name: string;
  /** Every line it printed so far, in order. */
  readonly messages: readonly Message[];
  /** Writes one JSON command line to its stdin. */
  send(command: Record<string, unknown>): void;
  /**
   * The first message from index `from` on that satisfies `match`, waiting up to `timeoutMs`.
   */
  waitFor(match: (message: Message) => boolean, timeoutMs: number, from?: number): Promise<Message>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  kill(): void;
}

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function parse(line: string): Message {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === 'object' && value !== null && 'event' in value) {
      return value as Message;
    }
  } catch {
    // Reported as a stray line below.
  }

  return { event: 'stray', line };
}

function start(script: string, name: string, env: Record<string, string>): Child {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fixture(script)], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  let ended = false;

  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      messages.push(parse(line));
    }
    waiters.forEach((wake) => wake());
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      ended = true;
      waiters.forEach((wake) => wake());
      resolve({ code, signal, stderr });
    });
  });

  const waitFor: Child['waitFor'] = (match, timeoutMs, from = 0) =>
    new Promise<Message>((resolve, reject) => {
      const check = () => {
        const found = messages.slice(from).find(match);
        if (found || ended) {
          clearTimeout(timer);
          waiters.delete(check);
          if (found) {
            resolve(found);
          } else {
            reject(new Error(`${name} exited first; stderr: ${stderr.slice(-2000)}`));
          }
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const seen = JSON.stringify(messages.slice(-5));
        reject(new Error(`${name}: no such message in ${timeoutMs} ms; last: ${seen}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    name,
    messages,
    send: (command) => {
      if (!ended) {
        child.stdin!.write(`${JSON.stringify(command)}\n`);
      }
    },
    waitFor,
    exited,
    kill: () => {
      if (!ended) {
        child.kill('SIGKILL');
      }
    },
  };
}

/** Starts fixtures from test/fixtures; whatever still runs after the file is killed. */
export function useChildren(): (
  script: string,
  name: string,
  env: Record<string, string>,
) => Child {
  const all: Child[] = [];
  afterAll(async () => {
    all.forEach((child) => child.kill());
    await Promise.all(all.map((child) => child.exited));
  });

  return (script, name, env) => {
    const child = start(script, name, env);
    all.push(child);

    return child;
  };
}

/** A fresh database, empty or cloned from `template`, and how to drop it. */
export async function createDatabase(template?: string) {
  const baseUrl = process.env.DATABASE_URL as string;
  const name = `m28_multi_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = await connectPostgres(baseUrl, { max: 1 });
  const clause = template ? ` template ${template}` : '';
  // Files cloning the template at the same instant can see "source database is being accessed".
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin.query(sql.raw(`create database ${name}${clause}`));
      break;
    } catch (error) {
      if (attempt >= 20) {
        await admin.close();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 50));
    }
  }

  return {
    name,
    url: databaseUrlFor(baseUrl, name),
    drop: async () => {
      await admin.query(sql.raw(`drop database if exists ${name} with (force)`));
      await admin.close();
    },
  };
}
