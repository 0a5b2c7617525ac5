/**
 * The SMS fallback: when Twilio fails or its breaker refuses the call, the message waits in
 * an outbox (in memory here; a table in a real service) and is sent once Twilio is back.
 */
import { isBreakerOpenError, isM28Error } from '../../src/index.js';
import { describeError } from './clients.js';

/** An SMS to send. */
export interface Sms {
  readonly to: string;
  readonly from: string;
  readonly body: string;
}

/** What sending an SMS came to: sent by Twilio, or queued by the fallback. */
export type SmsOutcome =
  | { readonly kind: 'sent'; readonly sid: string }
  | { readonly kind: 'queued'; readonly outboxId: number; readonly because: string };

/** One line about an outcome. */
export function describeOutcome(outcome: SmsOutcome): string {
  return outcome.kind === 'sent'
    ? `sent ${outcome.sid}`
    : `queued as #${outcome.outboxId} (${outcome.because})`;
}

interface Queued {
  readonly id: number;
  readonly sms: Sms;
}

/** Messages waiting for Twilio, and the breaker fallback that fills it. */
export class SmsOutbox {
  #nextId = 1;
  #items: Queued[] = [];
  /** Fallback calls for refused calls (breaker open): Twilio was never asked. */
  refused = 0;
  /** Fallback calls for calls that reached Twilio and failed. */
  failed = 0;
  /** Fallback calls without a message: failed or refused health checks. */
  withoutMessage = 0;

  /** Messages waiting. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * The breaker's fallback: `(error, ...args)`, where args are the wrapped function's
   * arguments. It answers in the wrapped function's result type, so callers need no try/catch
   * for an outage. The monitor's health checks go through the same breaker with no arguments,
   * so a failed check arrives here too, with nothing to queue.
   */
  readonly fallback = (error: unknown, ...args: unknown[]): SmsOutcome | undefined => {
    const sms = args[0] as Sms | undefined;
    if (!sms) {
      this.withoutMessage += 1;

      return undefined;
    }

    if (isBreakerOpenError(error)) {
      this.refused += 1;
    } else {
      this.failed += 1;
    }
    const because = isM28Error(error) ? error.code : describeError(error);
    const id = this.#nextId++;
    this.#items.push({ id, sms });

    return { kind: 'queued', outboxId: id, because };
  };

  /**
   * Sends every waiting message through `send` (the wrapped call). A message that fails again
   * is queued again by the fallback, under a new id, so a drain always ends.
   */
  async drain(send: (sms: Sms) => Promise<SmsOutcome>): Promise<SmsOutcome[]> {
    const items = this.#items;
    this.#items = [];
    const outcomes: SmsOutcome[] = [];
    for (const item of items) {
      outcomes.push(await send(item.sms));
    }

    return outcomes;
  }
}
