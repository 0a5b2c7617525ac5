/**
 * The driver, run by instance 0: every few seconds it disables a provider through
 * ops.toggle() and enables it again a second later, and it starts, completes and cancels the
 * manual scope's rotations through ops.secrets, racing the schedulers of every instance.
 * Every loop is bounded in count and in time; database errors (the fault) are counted and
 * the step is tried again later.
 */
import { randomBytes } from 'node:crypto';

import {
  RotationInProgressError,
  RotationNotDueError,
  RotationNotOpenError,
  fingerprint,
  type M28Ops,
} from '../../src/index.js';
import { sleep } from './io.js';
import { MANUAL_KEYS, MANUAL_SCOPE, PROVIDERS, type Plan } from './plan.js';

const ACTOR = 'soak-driver';

export async function runDriver(ops: M28Ops, plan: Plan, t0: number) {
  const stats = {
    disables: 0,
    enables: 0,
    toggleErrors: 0,
    starts: 0,
    startsRefused: 0,
    completes: 0,
    cancels: 0,
    endsRefused: 0,
    rotationErrors: 0,
  };
  await Promise.all([toggles(ops, plan, t0, stats), rotations(ops, t0 + plan.durationMs, stats)]);

  return stats;
}

type Stats = Awaited<ReturnType<typeof runDriver>>;

async function toggles(ops: M28Ops, plan: Plan, t0: number, stats: Stats): Promise<void> {
  const rounds = Math.floor((plan.toggles.to - plan.toggles.from) / plan.togglePeriodMs) + 1;
  for (let round = 0; round < rounds; round += 1) {
    const at = t0 + plan.toggles.from + round * plan.togglePeriodMs;
    if (at >= t0 + plan.toggles.to) {
      break;
    }
    await sleep(at - Date.now());
    const [provider, service] = PROVIDERS[round % PROVIDERS.length]!.split('/') as [string, string];
    const toggle = (enabled: boolean) =>
      ops.toggle({ provider, service, enabled, reason: `soak round ${round}`, actor: ACTOR });
    try {
      await toggle(false);
      stats.disables += 1;
    } catch {
      stats.toggleErrors += 1;
      continue;
    }
    await sleep(1000);
    // Enabling again must happen, fault or not: bounded retries.
    for (let attempt = 0; attempt < 40; attempt += 1) {
      try {
        await toggle(true);
        stats.enables += 1;
        break;
      } catch {
        stats.toggleErrors += 1;
        await sleep(250);
      }
    }
  }
}

async function rotations(ops: M28Ops, endAt: number, stats: Stats): Promise<void> {
  const secrets = ops.secrets!;
  let turn = 0;
  for (let round = 0; round < 1000 && Date.now() < endAt; round += 1) {
    for (const keyName of MANUAL_KEYS) {
      try {
        const history = await secrets.history({ scope: MANUAL_SCOPE, keyName });
        const open = history.find((entry) => entry.status === 'in_progress');
        if (!open) {
          // Not forced: refused unless due, and refused while another rotation is open.
          await secrets.startRotation({
            scope: MANUAL_SCOPE,
            keyName,
            rotationType: 'manual',
            actor: ACTOR,
          });
          stats.starts += 1;
        } else if ((turn += 1) % 3 === 0) {
          await secrets.cancelRotation(open.id, { reason: 'soak: cancelled', actor: ACTOR });
          stats.cancels += 1;
        } else {
          const value = randomBytes(32);
          await secrets.completeRotation(open.id, {
            version: `v${Date.now()}-${round}`,
            fingerprint: fingerprint(value),
            affectedServices: ['soak'],
            downtimeSeconds: 0,
            actor: ACTOR,
          });
          stats.completes += 1;
        }
      } catch (error) {
        if (error instanceof RotationInProgressError || error instanceof RotationNotDueError) {
          stats.startsRefused += 1;
        } else if (error instanceof RotationNotOpenError) {
          stats.endsRefused += 1;
        } else {
          stats.rotationErrors += 1;
        }
      }
    }
    await sleep(300 + Math.floor(Math.random() * 300));
  }
}
