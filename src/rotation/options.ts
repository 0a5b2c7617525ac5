import { z } from 'zod';

import { toFieldIssues } from '../breakers/options.js';
import { ValidationError } from '../errors/ValidationError.js';
import { nameSchema } from '../secrets/inputs.js';
import type { Rotator } from './runRotator.js';

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  message: 'must be a function',
});

/** A rotator's shape; its steps are checked for being functions, not called. */
const rotatorSchema = z.object({
  create: fn,
  apply: fn,
  test: fn,
  finish: fn.optional(),
  affectedServices: z.array(nameSchema).max(100, 'must have at most 100 entries').optional(),
  hmacKey: z.union([z.string().min(1, 'must not be empty'), z.instanceof(Uint8Array)]).optional(),
  retries: z.number().int('must be an integer').min(0).max(10).optional(),
  maintenance: z
    .object({
      provider: nameSchema,
      service: nameSchema,
      downtimeSeconds: z.number().int('must be an integer').min(0).max(2_147_483_647),
    })
    .optional(),
});

/** The scheduler's options that can be checked before anything runs. */
const schedulerOptionsSchema = z.object({
  intervalMs: z.number().int('must be an integer').min(1).max(2_147_483_647).optional(),
  autoStart: z.boolean().optional(),
  batchSize: z.number().int('must be an integer').min(1).max(10_000).optional(),
  rotationLeaseMs: z.number().int('must be an integer').min(1).max(2_147_483_647).optional(),
  dueSoonDays: z.number().min(0).max(366).optional(),
  rotators: z.record(z.string(), rotatorSchema).optional(),
  // It is recorded as a rotation's initiated_by, which holds at most 100 characters.
  actor: nameSchema.optional(),
});

/**
 * Checks the scheduler's numeric options, actor and rotators.
 * @internal
 * @throws {@link ValidationError} naming the option, its rule and, for numbers only, the value
 *   received: a rotator's other fields, such as `hmacKey`, may be secrets.
 */
export function checkSchedulerOptions(options: {
  readonly intervalMs?: number;
  readonly autoStart?: boolean;
  readonly batchSize?: number;
  readonly rotationLeaseMs?: number;
  readonly dueSoonDays?: number;
  readonly rotators?: Readonly<Record<string, Rotator>>;
  readonly actor?: string;
}): void {
  const { intervalMs, autoStart, batchSize, rotationLeaseMs, dueSoonDays, rotators, actor } =
    options;
  const checked = {
    intervalMs,
    autoStart,
    batchSize,
    rotationLeaseMs,
    dueSoonDays,
    rotators,
    actor,
  };
  const parsed = schedulerOptionsSchema.safeParse(checked);
  if (parsed.success) {
    return;
  }

  const issues = toFieldIssues(parsed.error, checked, 'options.').map((issue) =>
    typeof issue.received === 'number' ? issue : { ...issue, received: '[redacted]' },
  );

  throw new ValidationError(issues);
}
