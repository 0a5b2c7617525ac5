/**
 * A fake Stripe API on loopback: enough of `POST /v1/payment_intents` and `GET /v1/balance`
 * for the real `stripe` SDK, with Stripe's error shape. Stripe's test payment methods pick the
 * outcome: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined (402 card_error).
 */
import {
  fakeId,
  serveLoopback,
  type FakeAnswer,
  type FakeMode,
  type FakeRequest,
} from './loopback.js';

/** The fake's routes, as counted in {@link FakeStripe.hits}. */
export type StripeRoute = 'payment_intents.create' | 'balance.retrieve';

/** A fake Stripe: switch `mode` to `'unavailable'` for 503s. */
export interface FakeStripe {
  readonly port: number;
  mode: FakeMode;
  /** Requests that reached the fake, by route, whatever it answered. */
  hits(route: StripeRoute): number;
  close(): Promise<void>;
}

/** Stripe's test payment methods that are declined, with their decline codes. */
const DECLINES: Readonly<Record<string, string>> = {
  pm_card_chargeDeclined: 'generic_decline',
  pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
};
const APPROVED = new Set(['pm_card_visa', 'pm_card_mastercard']);

const now = () => Math.floor(Date.now() / 1000);

function stripeError(status: number, error: Record<string, unknown>): FakeAnswer {
  return { status, body: { error }, headers: { 'request-id': fakeId('req_', 14) } };
}

function paymentIntent(form: URLSearchParams, status: string, charge: string | null) {
  const id = fakeId('pi_', 24);
  const amount = Number(form.get('amount'));

  return {
    id,
    object: 'payment_intent',
    amount,
    amount_received: status === 'succeeded' ? amount : 0,
    currency: form.get('currency'),
    status,
    payment_method: form.get('payment_method'),
    capture_method: 'automatic_async',
    confirmation_method: 'automatic',
    client_secret: `${id}_secret_${fakeId('', 24)}`,
    created: now(),
    latest_charge: charge,
    livemode: false,
    metadata: {},
  };
}

function createPaymentIntent(form: URLSearchParams): FakeAnswer {
  for (const param of ['amount', 'currency']) {
    if (!form.get(param)) {
      return stripeError(400, {
        type: 'invalid_request_error',
        code: 'parameter_missing',
        param,
        message: `Missing required param: ${param}.`,
      });
    }
  }
  const method = form.get('payment_method') ?? '';
  if (form.get('confirm') !== 'true') {
    return { status: 200, body: paymentIntent(form, 'requires_confirmation', null) };
  }
  if (APPROVED.has(method)) {
    return { status: 200, body: paymentIntent(form, 'succeeded', fakeId('ch_', 24)) };
  }

  const declineCode = DECLINES[method];
  if (!declineCode) {
    return stripeError(400, {
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'payment_method',
      message: `No such PaymentMethod: '${method}'`,
    });
  }

  return stripeError(402, {
    type: 'card_error',
    code: 'card_declined',
    decline_code: declineCode,
    message: 'Your card was declined.',
    doc_url: 'https://stripe.com/docs/error-codes/card-declined',
    charge: fakeId('ch_', 24),
    payment_intent: paymentIntent(form, 'requires_payment_method', null),
  });
}

const balance = () => ({
  object: 'balance',
  available: [{ amount: 1_250_00, currency: 'usd', source_types: { card: 1_250_00 } }],
  pending: [{ amount: 310_00, currency: 'usd', source_types: { card: 310_00 } }],
  livemode: false,
});

/** Starts a fake Stripe on 127.0.0.1 that accepts any `sk_test_` key. */
export async function startFakeStripe(): Promise<FakeStripe> {
  let mode: FakeMode = 'ok';
  const hits = new Map<StripeRoute, number>();
  const count = (route: StripeRoute) => hits.set(route, (hits.get(route) ?? 0) + 1);

  const handle = (request: FakeRequest): FakeAnswer => {
    const route: StripeRoute | undefined =
      request.method === 'POST' && request.path === '/v1/payment_intents'
        ? 'payment_intents.create'
        : request.method === 'GET' && request.path === '/v1/balance'
          ? 'balance.retrieve'
          : undefined;
    if (route) {
      count(route);
    }
    if (!request.authorization.startsWith('Bearer sk_test_')) {
      return stripeError(401, {
        type: 'invalid_request_error',
        message: 'Invalid API Key provided.',
      });
    }
    if (mode === 'unavailable') {
      return stripeError(503, {
        type: 'api_error',
        message: 'Stripe is temporarily unavailable. Please try again later.',
      });
    }
    if (route === 'payment_intents.create') {
      return createPaymentIntent(request.form);
    }
    if (route === 'balance.retrieve') {
      return { status: 200, body: balance() };
    }

    return stripeError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${request.method}: ${request.path}).`,
    });
  };

  const server = await serveLoopback(handle);

  return {
    port: server.port,
    get mode() {
      return mode;
    },
    set mode(next: FakeMode) {
      mode = next;
    },
    hits: (route) => hits.get(route) ?? 0,
    close: () => server.close(),
  };
}
