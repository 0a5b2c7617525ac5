/** Small helpers of the example: wait for a condition, call an instance's admin API. */
import assert from 'node:assert/strict';

import type { Instance } from './instance.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every 20 ms until it returns true, and fails after `ms`. Resolves to the
 * milliseconds since `from` (now, by default).
 */
export async function within(
  ms: number,
  what: string,
  probe: () => Promise<boolean>,
  from = performance.now(),
): Promise<number> {
  while (!(await probe())) {
    assert.ok(performance.now() - from < ms, `${what}: not within ${ms} ms`);
    await sleep(20);
  }

  return Math.round(performance.now() - from);
}

/** Calls an instance's admin API with one of the embedded demo's bearer tokens. */
export async function api(
  instance: Instance,
  token: 'demo-monitor' | 'demo-admin' | 'demo-superadmin',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(instance.api + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.ok, `${instance.name} ${path}: HTTP ${response.status}`);

  return (await response.json()) as Record<string, unknown>;
}
