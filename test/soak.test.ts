/**
 * The soak, shortened to 20 s: scripts/soak.ts runs four instance processes on a fresh
 * database through provider faults, toggles, rotations and a database fault, then prints
 * each invariant with PASS or FAIL. Every invariant must pass, and the exit code be 0.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = 20;
const INVARIANTS = ['run', '0', '1', '2', '3', '4', '5'];

let kill: (() => void) | undefined;
afterAll(() => kill?.());

function runSoak(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/soak.ts', '--seconds', String(SECONDS)],
      { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // SIGINT: the soak then stops its instances and drops its database.
    kill = () => child.kill('SIGINT');
    child.on('exit', (code) => {
      kill = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.runIf(process.env.DATABASE_URL)(
  `the ${SECONDS} s soak (needs DATABASE_URL: PostgreSQL with several connections)`,
  () => {
    it('passes every invariant and exits 0', { timeout: 120_000 }, async () => {
      const { code, stdout, stderr } = await runSoak();
      const lines = stdout.split('\n');
      const verdicts = lines.filter((line) => /^(PASS|FAIL) \(/.test(line));
      const report = `${stdout}\n${stderr}`;

      expect(
        verdicts.filter((line) => line.startsWith('FAIL')),
        report,
      ).toEqual([]);
      for (const id of INVARIANTS) {
        expect(
          verdicts.some((line) => line.startsWith(`PASS (${id}) `)),
          `no PASS line for invariant (${id})\n${report}`,
        ).toBe(true);
      }
      expect(lines).toContain('soak: all invariants PASS');
      expect(code, report).toBe(0);
    });
  },
);
