/**
 * A fake Twilio REST API on loopback: enough of `POST .../Messages.json` and
 * `GET /2010-04-01/Accounts/{sid}.json` for the real `twilio` SDK, with Twilio's error shape
 * (`{ code, message, more_info, status }`).
 */
import {
  fakeId,
  serveLoopback,
  type FakeAnswer,
  type FakeMode,
  type FakeRequest,
} from './loopback.js';

/** The fake's routes, as counted in {@link FakeTwilio.hits}. */
export type TwilioRoute = 'messages.create' | 'accounts.fetch';

/** A message the fake accepted. */
export interface SentMessage {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  readonly body: string;
}

/** A fake Twilio: switch `mode` to `'unavailable'` for 503s. */
export interface FakeTwilio {
  readonly port: number;
  mode: FakeMode;
  /** Messages accepted, oldest first. */
  readonly sent: readonly SentMessage[];
  /** Requests that reached the fake, by route, whatever it answered. */
  hits(route: TwilioRoute): number;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{7,14}$/;
// Twilio writes dates in RFC 2822: "Tue, 14 May 2024 10:00:00 +0000".
const rfc2822 = () => new Date().toUTCString().replace('GMT', '+0000');

function twilioError(status: number, code: number, message: string): FakeAnswer {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

function createMessage(sid: string, form: URLSearchParams, sent: SentMessage[]): FakeAnswer {
  const to = form.get('To') ?? '';
  const from = form.get('From') ?? '';
  const body = form.get('Body') ?? '';
  if (!E164.test(to)) {
    return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
  }
  if (!from) {
    return twilioError(400, 21604, "A 'From' phone number is required.");
  }

  const message = { sid: fakeId('SM', 32), to, from, body };
  sent.push(message);
  const date = rfc2822();
  const uri = `/2010-04-01/Accounts/${sid}/Messages/${message.sid}`;

  return {
    status: 201,
    body: {
      ...message,
      account_sid: sid,
      api_version: '2010-04-01',
      date_created: date,
      date_updated: date,
      date_sent: null,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      status: 'queued',
      subresource_uris: { media: `${uri}/Media.json` },
      uri: `${uri}.json`,
    },
  };
}

function account(sid: string): FakeAnswer {
  const date = rfc2822();

  return {
    status: 200,
    body: {
      sid,
      friendly_name: 'm28-ops example',
      owner_account_sid: sid,
      status: 'active',
      type: 'Full',
      date_created: date,
      date_updated: date,
      uri: `/2010-04-01/Accounts/${sid}.json`,
      subresource_uris: { messages: `/2010-04-01/Accounts/${sid}/Messages.json` },
    },
  };
}

/** Starts a fake Twilio on 127.0.0.1 for one account SID and auth token. */
export async function startFakeTwilio(accountSid: string, authToken: string): Promise<FakeTwilio> {
  let mode: FakeMode = 'ok';
  const sent: SentMessage[] = [];
  const hits = new Map<TwilioRoute, number>();
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const base = `/2010-04-01/Accounts/${accountSid}`;

  const handle = (request: FakeRequest): FakeAnswer => {
    const route: TwilioRoute | undefined =
      request.method === 'POST' && request.path === `${base}/Messages.json`
        ? 'messages.create'
        : request.method === 'GET' && request.path === `${base}.json`
          ? 'accounts.fetch'
          : undefined;
    if (route) {
      hits.set(route, (hits.get(route) ?? 0) + 1);
    }
    if (request.authorization !== expectedAuth) {
      return twilioError(401, 20003, 'Authenticate');
    }
    if (mode === 'unavailable') {
      return twilioError(503, 20503, 'Service Unavailable');
    }
    if (route === 'messages.create') {
      return createMessage(accountSid, request.form, sent);
    }
    if (route === 'accounts.fetch') {
      return account(accountSid);
    }

    return twilioError(404, 20404, `The requested resource ${request.path} was not found`);
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
    sent,
    hits: (route) => hits.get(route) ?? 0,
    close: () => server.close(),
  };
}
