/**
 * The real `stripe` and `twilio` SDKs behind m28-ops breakers, on an embedded PGlite, against
 * fake Stripe and Twilio APIs on loopback: `npx tsx examples/stripe-twilio/main.ts`.
 *
 * It shows an error filter that keeps card declines from tripping Stripe's breaker, a 503
 * burst that trips Twilio's, a fallback that queues SMS while Twilio is refused, health checks
 * built from cheap read calls, and recovery. It checks its own expectations: exit code 0 when
 * all hold, 1 otherwise. It ends by itself: about 5 s once PGlite is up.
 */
import { connectPglite, createOps, isBreakerOpenError } from '../../src/index.js';
import * as sdk from './clients.js';
import { startFakeStripe } from './fakeStripe.js';
import { startFakeTwilio } from './fakeTwilio.js';
import { fakeId } from './loopback.js';
import { describeOutcome, SmsOutbox, type Sms, type SmsOutcome } from './outbox.js';
import {
  attempt,
  Expectations,
  heading,
  narrate,
  printDatabase,
  printHealth,
  say,
  sleep,
  startWatchdog,
  until,
} from './report.js';

// A hang must fail CI, not stall it. The scenario takes about 5 s once PGlite is up; PGlite's
// start (compiling its WebAssembly) takes a few seconds, and far longer on a busy machine.
const watchdog = startWatchdog(50_000);

const ACCOUNT_SID = fakeId('AC', 32);
const AUTH_TOKEN = 'fake_auth_token';
const FROM = '+15005550006';
const FAILURE_THRESHOLD = 3;
const checks = new Expectations();

const [fakeStripe, fakeTwilio] = await Promise.all([
  startFakeStripe(),
  startFakeTwilio(ACCOUNT_SID, AUTH_TOKEN),
]);
const stripe = sdk.stripeClient(fakeStripe.port);
const twilio = sdk.twilioClient(fakeTwilio.port, ACCOUNT_SID, AUTH_TOKEN);
const outbox = new SmsOutbox();
say(`fake Stripe on 127.0.0.1:${fakeStripe.port}, fake Twilio on 127.0.0.1:${fakeTwilio.port}`);

say('starting the embedded database (PGlite) and migrating the m28 schema');
const store = await connectPglite();
const ops = createOps({
  store,
  intervalMs: 500,
  checkTimeoutMs: 2000,
  flushIntervalMs: 500,
  defaults: { failureThreshold: FAILURE_THRESHOLD, resetTimeoutMs: 1500, timeoutMs: 3000 },
  providers: {
    'stripe/payment': {
      check: () => stripe.balance.retrieve(),
      errorFilter: sdk.isCardDecline,
    },
    'twilio/sms': {
      check: () => twilio.api.v2010.accounts(ACCOUNT_SID).fetch(),
      errorFilter: sdk.isTwilioBadRequest,
      fallback: outbox.fallback,
    },
  },
});
const { opened, backgroundErrors } = narrate(ops);
await ops.start();

const breakerState = (provider: string, service: string) =>
  ops.breakers.get(provider, service)?.state;
const pay = ops.wrap('stripe', 'payment', (amount: number, paymentMethod: string) =>
  stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: paymentMethod,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    confirm: true,
  }),
);
// The wrapped call and the fallback answer in one type, so callers handle no outage errors.
const sendSms = ops.wrap('twilio', 'sms', async (sms: Sms): Promise<SmsOutcome> => {
  const message = await twilio.messages.create({ to: sms.to, from: sms.from, body: sms.body });

  return { kind: 'sent', sid: message.sid };
});

heading('1. health checks are cheap reads: stripe.balance.retrieve(), twilio account fetch');
const firstChecks = await ops.monitor.checkAll();
for (const c of firstChecks) {
  say(`check ${c.provider}/${c.service}: ${c.passed ? 'passed' : 'failed'} (${c.reason ?? 'ok'})`);
}
checks.expect(firstChecks.length === 2 && firstChecks.every((c) => c.passed), 'both checks pass');

heading('2. card declines (402 card_error) pass the error filter: they never trip the breaker');
const declines = [];
for (let i = 1; i <= 5; i += 1) {
  const result = await attempt(pay(2500, 'pm_card_chargeDeclined'));
  const outcome = result.ok ? result.value.status : sdk.describeError(result.error);
  say(`payment ${i} with pm_card_chargeDeclined: ${outcome}`);
  declines.push(result);
}
checks.expect(
  declines.every((r) => !r.ok && sdk.isCardDecline(r.error)),
  'each decline reaches the caller as the SDK threw it: a StripeCardError',
);
checks.expect(
  breakerState('stripe', 'payment') === 'closed' && !opened.includes('stripe/payment'),
  `5 declines, threshold ${FAILURE_THRESHOLD}: the stripe/payment breaker stays closed`,
);
const paid = await pay(2500, 'pm_card_visa');
say(`payment with pm_card_visa: ${paid.status} ${paid.id}`);
checks.expect(paid.status === 'succeeded', 'a good card is charged');

heading('3. an invalid number (400, Twilio 21211) reaches the caller: no fallback, no count');
const invalid = await attempt(sendSms({ to: '+1555', from: FROM, body: 'Your code is 123456' }));
const invalidText = invalid.ok ? describeOutcome(invalid.value) : sdk.describeError(invalid.error);
say(`sms to +1555: ${invalidText}`);
checks.expect(
  !invalid.ok && (invalid.error as { code?: unknown }).code === 21211 && outbox.size === 0,
  'the RestException 21211 is thrown to the caller, and nothing is queued',
);

heading('4. Twilio answers 503: the breaker opens, the fallback queues the SMS');
fakeTwilio.mode = 'unavailable';
const postsBefore = fakeTwilio.hits('messages.create');
const burst: SmsOutcome[] = [];
for (let i = 1; i <= 6; i += 1) {
  const sms = { to: `+1555010000${i}`, from: FROM, body: `Order #10${i} has shipped` };
  const outcome = await sendSms(sms);
  say(`sms ${i}: ${describeOutcome(outcome)}`);
  burst.push(outcome);
}
const reached = fakeTwilio.hits('messages.create') - postsBefore;
checks.expect(opened.includes('twilio/sms'), 'the 503 burst opens the twilio/sms breaker');
checks.expect(
  burst.every((o) => o.kind === 'queued') && outbox.size === 6,
  'the fallback answers all 6 SMS (queued in the outbox): the caller sees no error',
);
checks.expect(
  reached <= FAILURE_THRESHOLD && outbox.refused >= 6 - FAILURE_THRESHOLD,
  `${reached} of 6 SMS reached Twilio; ${outbox.refused} were refused without a call`,
);
printHealth(ops);

say('Twilio stays down 2.5 s: after the 1.5 s reset, the health check is the trial call');
await sleep(2500);
fakeTwilio.mode = 'ok';
say('Twilio answers again');
const recovered = await until(() => breakerState('twilio', 'sms') === 'closed', 8000);
checks.expect(recovered, 'a trial call (the account fetch) closes the twilio/sms breaker');
say(`(the fallback also ran ${outbox.withoutMessage} times for health checks: no message)`);
const drained = await outbox.drain(sendSms);
say(`outbox drained: ${drained.map((o) => (o.kind === 'sent' ? 'sent' : 'queued')).join(', ')}`);
const delivered = fakeTwilio.sent.filter((m) => m.body.startsWith('Order #10')).length;
checks.expect(
  drained.length === 6 && drained.every((o) => o.kind === 'sent') && delivered === 6,
  'all 6 queued SMS are delivered once Twilio is back',
);

heading('5. Stripe answers 503: these do count, and an operator resets the breaker');
fakeStripe.mode = 'unavailable';
const chargesBefore = fakeStripe.hits('payment_intents.create');
let refusal: unknown;
for (let i = 1; i <= FAILURE_THRESHOLD + 2 && refusal === undefined; i += 1) {
  const result = await attempt(pay(1000, 'pm_card_visa'));
  say(`payment ${i}: ${result.ok ? result.value.status : sdk.describeError(result.error)}`);
  refusal = !result.ok && isBreakerOpenError(result.error) ? result.error : undefined;
}
const charged = fakeStripe.hits('payment_intents.create') - chargesBefore;
checks.expect(
  isBreakerOpenError(refusal) && charged <= FAILURE_THRESHOLD,
  `${charged} payments reached Stripe, then the breaker refused with BreakerOpenError`,
);
fakeStripe.mode = 'ok';
await ops.resetBreaker({
  provider: 'stripe',
  service: 'payment',
  actor: 'oncall@example.com',
  reason: 'Stripe incident resolved',
});
const afterReset = await pay(1000, 'pm_card_visa');
say(`after the reset, payment with pm_card_visa: ${afterReset.status}`);
checks.expect(afterReset.status === 'succeeded', 'the audited reset lets payments through');
printHealth(ops);

heading('6. what the database recorded');
await ops.close();
const { events, audit } = await printDatabase(store);
const recorded = (provider: string, type: string) =>
  events.some((e) => e.provider === provider && e.event_type === type);
checks.expect(
  recorded('twilio/sms', 'breaker_open') && recorded('stripe/payment', 'breaker_reset'),
  'the trips and the reset are in m28.provider_operational_events',
);
checks.expect(
  audit.some((a) => a.action === 'provider.reset_circuit_breaker'),
  "the operator's reset is in m28.audit_log",
);
checks.expect(backgroundErrors.length === 0, 'no background errors');
await store.close();
await Promise.all([fakeStripe.close(), fakeTwilio.close()]);
watchdog.stop();
checks.finish();
