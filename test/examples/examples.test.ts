/**
 * The runnable examples, each run as its own process the way a reader runs it:
 * `node --import tsx examples/<name>/main.ts`. Each must end by itself with exit code 0 and
 * print its success line; the PostgreSQL ones print a skip note instead without DATABASE_URL.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one example to its end, killing it after TIMEOUT_MS. DATABASE_URL passes through. */
function runExample(name: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}/main.ts`], {
      cwd: ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The run's output, for a failed assertion's message. */
const transcript = (run: Run) =>
  `exit ${run.code} ${run.signal ?? ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

const hasDatabase = Boolean(process.env.DATABASE_URL);

describe('examples', () => {
  it(
    'embedded (npm run demo): opens and closes breakers, audits the toggle, ends by itself',
    async () => {
      const run = await runExample('embedded');
      expect(run.code, transcript(run)).toBe(0);
      for (const line of [
        /BREAKER OPEN {3}twilio\/sms/,
        /breaker closed twilio\/sms/,
        /audit trail \(m28\.audit_log\):\n[^]*provider\.toggle +Planned maintenance/,
        /secret_rotation\.rollback/,
        /done\n$/,
      ]) {
        expect(run.stdout, transcript(run)).toMatch(line);
      }
      expect(run.stdout, transcript(run)).not.toMatch(/background error/);
    },
    TIMEOUT_MS + 5_000,
  );

  it(
    'http-frameworks: Express and Hono answer 200, 403, 200 and 401 as expected',
    async () => {
      const run = await runExample('http-frameworks');
      expect(run.code, transcript(run)).toBe(0);
      expect(run.stdout, transcript(run)).toContain('http-frameworks: OK');
    },
    TIMEOUT_MS + 5_000,
  );

  for (const name of ['existing-drizzle', 'postgres-server']) {
    it(
      hasDatabase
        ? `${name}: runs to its end on DATABASE_URL`
        : `${name}: without DATABASE_URL, says it skipped and exits 0`,
      async () => {
        const run = await runExample(name);
        expect(run.code, transcript(run)).toBe(0);
        expect(run.stdout, transcript(run)).toContain(
          hasDatabase ? `${name}: OK` : `${name}: SKIPPED, DATABASE_URL is not set`,
        );
      },
      TIMEOUT_MS + 5_000,
    );
  }
});
