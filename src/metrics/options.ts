import type { EventEmitter } from 'eventemitter3';

import { ValidationError } from '../errors/ValidationError.js';

// setInterval and setTimeout fire after 1 ms when asked for more than 2^31 - 1 ms.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * `value`, or `fallback` when it is left out.
 * @throws {@link ValidationError} naming `field` unless `value` is an integer from 1 to
 * 2 147 483 647, the longest a timer waits.
 * @internal
 */
export function timerOption(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_DELAY_MS) {
    throw new ValidationError([
      { field, rule: `must be an integer from 1 to ${MAX_TIMER_DELAY_MS}`, received: value },
    ]);
  }

  return value;
}

/**
 * Something that emits `Events`: one of the library's parts, or any eventemitter3 emitter of
 * the same event map.
 */
export type Listenable<Events extends object> = Pick<EventEmitter<Events>, 'on' | 'off'>;
