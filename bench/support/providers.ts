import type { M28Ops, ProviderOptions } from '../../src/index.js';

/** Ten providers and service types, as a host would register them. */
export const PROVIDER_KEYS = [
  'stripe/payment',
  'paypal/payment',
  'sendgrid/email',
  'mailgun/email',
  'twilio/sms',
  'vonage/sms',
  'openai/completion',
  'anthropic/completion',
  's3/storage',
  'algolia/search',
] as const;

/** `createOps()`'s `providers` option for the ten: default breaker options, no checks. */
export const PROVIDERS: Record<string, ProviderOptions> = Object.fromEntries(
  PROVIDER_KEYS.map((key) => [key, {}]),
);

/** The provider's answer: an async function returning a constant. */
export const answer = async () => 42;

/** One wrapped function per provider; call `index` goes to provider `index % 10`. */
export function wrapProviders(ops: M28Ops): (index: number) => Promise<number> {
  const calls = PROVIDER_KEYS.map((key) => {
    const [provider, service] = key.split('/') as [string, string];

    return ops.wrap(provider, service, answer);
  });

  return (index) => calls[index % calls.length]!();
}
