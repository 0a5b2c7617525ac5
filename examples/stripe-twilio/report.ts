/** Printing and self-checks for the example: a clock, expectations, events and tables. */
import { sql } from 'drizzle-orm';

import type { M28Ops, M28Store, ProviderHealth } from '../../src/index.js';

const started = Date.now();

/** Seconds since the program started. */
export const elapsedSeconds = () => (Date.now() - started) / 1000;

/** Prints one line with the time since the start. */
export function say(line: string): void {
  process.stdout.write(`+${elapsedSeconds().toFixed(1).padStart(4)}s  ${line}\n`);
}

/** Prints a section heading. */
export function heading(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exits with code 1 if the program is still running after `ms`: a hang fails, not stalls. */
export function startWatchdog(ms: number): { stop(): void } {
  const timer = setTimeout(() => {
    console.error(`FAIL: the example did not finish within ${ms / 1000} s`);
    process.exit(1);
  }, ms);
  timer.unref();

  return { stop: () => clearTimeout(timer) };
}

/** Waits until `condition()` holds, checking every 50 ms; false when `timeoutMs` passes. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      return false;
    }
    await sleep(50);
  }

  return true;
}

/** A promise's outcome without a try/catch at each call. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function attempt<T>(promise: Promise<T>): Promise<Attempt<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The program's own assertions: each prints, and any failure sets a non-zero exit code. */
export class Expectations {
  readonly failed: string[] = [];
  passed = 0;

  expect(condition: boolean, what: string): void {
    if (condition) {
      this.passed += 1;
      process.stdout.write(`        ok    ${what}\n`);
    } else {
      this.failed.push(what);
      process.stdout.write(`        FAIL  ${what}\n`);
    }
  }

  /** Prints the verdict and sets `process.exitCode` to 1 when an expectation failed. */
  finish(): void {
    if (this.failed.length === 0) {
      say(`all ${this.passed} expectations met`);

      return;
    }

    console.error(`${this.failed.length} expectation(s) failed:`);
    for (const what of this.failed) {
      console.error(`  - ${what}`);
    }
    process.exitCode = 1;
  }
}

/** Prints `ops.health()` as a table. */
export function printHealth(ops: M28Ops): void {
  const { providers } = ops.health();
  const row = (p: ProviderHealth) =>
    `        ${`${p.provider}/${p.service_type}`.padEnd(16)}${p.status.padEnd(11)}` +
    `${p.circuit_breaker_state.padEnd(11)}${String(p.success_rate ?? '-').padEnd(9)}` +
    `${String(p.failure_count).padEnd(10)}${p.available ? 'yes' : 'no'}`;
  process.stdout.write(
    `        ${'provider'.padEnd(16)}${'status'.padEnd(11)}${'breaker'.padEnd(11)}` +
      `${'success'.padEnd(9)}${'failures'.padEnd(10)}available\n` +
      `${providers.map(row).join('\n')}\n`,
  );
}

/** Prints breaker transitions, status changes and failed checks as they happen. */
export function narrate(ops: M28Ops): { opened: string[]; backgroundErrors: Error[] } {
  const opened: string[] = [];
  const backgroundErrors: Error[] = [];
  ops.on('breaker:open', (e) => {
    opened.push(`${e.provider}/${e.service}`);
    say(`BREAKER OPEN  ${e.provider}/${e.service} after ${e.failures} failures`);
  });
  ops.on('breaker:half_open', (e) => say(`breaker half-open ${e.provider}/${e.service}`));
  ops.on('breaker:close', (e) => say(`breaker closed ${e.provider}/${e.service} (${e.reason})`));
  ops.on('provider:status', (e) => say(`status ${e.provider}/${e.service}: ${e.from} -> ${e.to}`));
  ops.on('health:checked', (r) => {
    // Checks the breaker refused were never made: only failed calls are worth a line.
    if (!r.passed && r.reason !== 'circuit_breaker_open') {
      say(`health check ${r.provider}/${r.service} failed: ${r.reason ?? '-'}`);
    }
  });
  ops.on('error', (error) => {
    backgroundErrors.push(error);
    say(`background error: ${error.message}`);
  });

  return { opened, backgroundErrors };
}

/** Prints the operational events by type and the audit trail the store holds. */
export async function printDatabase(store: M28Store) {
  const events = await store.query<{ provider: string; event_type: string; n: number }>(
    sql`select provider_name || '/' || service_type as provider, event_type, count(*)::int as n
      from m28.provider_operational_events group by 1, 2 order by 1, 2`,
  );
  for (const e of events) {
    process.stdout.write(`        ${e.provider.padEnd(16)}${e.event_type.padEnd(22)}${e.n}\n`);
  }
  const audit = await store.query<{ actor: string; action: string; reason: string | null }>(
    sql`select actor, action, reason from m28.audit_log order by id`,
  );
  for (const a of audit) {
    process.stdout.write(`        audit  ${a.actor.padEnd(20)}${a.action.padEnd(34)}${a.reason}\n`);
  }

  return { events, audit };
}
