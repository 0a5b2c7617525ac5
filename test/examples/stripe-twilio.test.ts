import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'examples/stripe-twilio/main.ts';
const LIMIT_MS = 60_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the example as `node --import tsx`, killing it after `limitMs`. */
function runExample(limitMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('examples/stripe-twilio', () => {
  it(
    'runs the real SDKs against the loopback fakes, ends by itself and meets its expectations',
    async () => {
      const run = await runExample(LIMIT_MS);
      const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

      expect(run.signal, output).toBeNull();
      expect(run.code, output).toBe(0);
      expect(run.ms).toBeLessThan(LIMIT_MS);
      expect(run.stdout).not.toContain('FAIL');
      expect(run.stdout).toMatch(/payment 5 with pm_card_chargeDeclined: StripeCardError 402/);
      expect(run.stdout).toContain('the stripe/payment breaker stays closed');
      expect(run.stdout).toContain('BREAKER OPEN  twilio/sms');
      expect(run.stdout).toMatch(/sms 6: queued as #6 \(M28_BREAKER_OPEN\)/);
      expect(run.stdout).toContain('breaker closed twilio/sms (trial_succeeded)');
      expect(run.stdout).toContain('outbox drained: sent, sent, sent, sent, sent, sent');
      expect(run.stdout).toMatch(/all \d+ expectations met/);
    },
    LIMIT_MS + 10_000,
  );
});
