/**
 * The real `stripe` and `twilio` SDK clients, pointed at the loopback fakes, and the error
 * classifiers the breakers' error filters use.
 */
import Stripe from 'stripe';
import twilio from 'twilio';

/** Milliseconds an SDK waits for an answer; the breakers' own timeout is shorter. */
const SDK_TIMEOUT_MS = 5000;

/**
 * A Stripe client for the fake on `port`. Stripe's `host`, `port` and `protocol` options are
 * the supported way to aim it elsewhere; `maxNetworkRetries: 0` leaves retrying to the caller,
 * so that the breaker sees every failure (the SDK would otherwise retry a 503 by itself).
 */
export function stripeClient(port: number): Stripe {
  return new Stripe('sk_test_fake', {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    maxNetworkRetries: 0,
    timeout: SDK_TIMEOUT_MS,
    telemetry: false,
  });
}

type TwilioRequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/**
 * Twilio's SDK builds `https://api.twilio.com/...` URLs (or `api.<edge>.<region>.twilio.com`
 * with `edge`/`region`): no option points it at another host. A custom HTTP client is the
 * supported extension point (`twilio(sid, token, { httpClient })`); this one sends every
 * `*.twilio.com` request to the loopback fake instead, and refuses any other host.
 */
export class LoopbackRequestClient extends twilio.RequestClient {
  readonly #origin: string;

  constructor(port: number) {
    super({ timeout: SDK_TIMEOUT_MS });
    this.#origin = `http://127.0.0.1:${port}`;
  }

  override request<TData>(options: TwilioRequestOptions & { data?: TData }) {
    const target = new URL(options.uri);
    if (target.hostname !== 'twilio.com' && !target.hostname.endsWith('.twilio.com')) {
      return Promise.reject(new Error(`refusing to call ${target.hostname}: loopback only`));
    }

    const uri = `${this.#origin}${target.pathname}${target.search}`;

    return super.request<TData>({ ...options, uri });
  }
}

/** A Twilio client for the fake on `port`. */
export function twilioClient(port: number, accountSid: string, authToken: string) {
  return twilio(accountSid, authToken, {
    httpClient: new LoopbackRequestClient(port),
    autoRetry: false,
  });
}

/**
 * A card decline is the customer's card speaking, not Stripe failing: it must not open the
 * breaker. `instanceof` for this copy of the SDK; `type` also matches an error from another
 * copy of `stripe` in `node_modules`.
 */
export function isCardDecline(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeCardError ||
    (error as { type?: unknown } | null)?.type === 'StripeCardError'
  );
}

/**
 * A 400 from Twilio (an invalid `To` number: 21211; no `From`: 21604) is a bad request, not
 * an outage. 401, 403 and 429 still count: every message would fail the same way.
 */
export function isTwilioBadRequest(error: unknown): boolean {
  return error instanceof twilio.RestException && error.status === 400;
}

/** One line about an SDK error: its class, HTTP status and provider code, never its text. */
export function describeError(error: unknown): string {
  if (error instanceof Stripe.errors.StripeError) {
    const code = error.decline_code ?? error.code;

    return `${error.type} ${error.statusCode ?? '-'}${code ? ` ${code}` : ''}`;
  }
  if (error instanceof twilio.RestException) {
    return `RestException ${error.status}${error.code ? ` ${error.code}` : ''}`;
  }
  const code = (error as { code?: unknown } | null)?.code;

  return `${error instanceof Error ? error.name : typeof error}${code ? ` ${String(code)}` : ''}`;
}
