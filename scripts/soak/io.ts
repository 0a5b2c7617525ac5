/**
 * JSON lines between the soak's parent and its instances: `say()` on the child's side,
 * `spawnInstance()` on the parent's.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One JSON line an instance printed. */
export type Message = { event: string } & Record<string, unknown>;

/** Prints one JSON line. */
export function say(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** Prints a last line, then exits once stdout has taken it. */
export function exitWith(code: number, event: string, fields: Record<string, unknown> = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`, () => process.exit(code));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A running instance process. */
export interface Instance {
  readonly name: string;
  readonly messages: readonly Message[];
  send(command: Record<string, unknown>): void;
  /** The first message satisfying `match`, waiting at most `timeoutMs`. */
  waitFor(match: (message: Message) => boolean, timeoutMs: number): Promise<Message>;
  readonly exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  kill(): void;
}

const INSTANCE_SCRIPT = fileURLToPath(new URL('./instance.ts', import.meta.url));

/** Starts scripts/soak/instance.ts under tsx, with `--expose-gc` for steady heap samples. */
export function spawnInstance(name: string, env: Record<string, string>): Instance {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', INSTANCE_SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  let stderr = '';
  let ended = false;

  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      try {
        messages.push(JSON.parse(line) as Message);
      } catch {
        messages.push({ event: 'stray', line });
      }
    }
    waiters.forEach((wake) => wake());
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve) =>
      child.on('exit', (code, signal) => {
        ended = true;
        waiters.forEach((wake) => wake());
        resolve({ code, signal, stderr });
      }),
  );

  const waitFor: Instance['waitFor'] = (match, timeoutMs) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(match);
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
        reject(new Error(`${name}: nothing matched in ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    name,
    messages,
    send: (command) => {
      if (!ended) {
        child.stdin.write(`${JSON.stringify(command)}\n`);
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
