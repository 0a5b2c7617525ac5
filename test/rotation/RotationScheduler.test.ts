import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  RotationScheduler,
  SecretsManager,
  ValidationError,
  type M28Store,
  type Rotator,
} from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import {
  DAY_MS,
  eventsOf,
  newSecret,
  recordEvents,
  SCHEDULER_EVENTS,
  SECRETS_EVENTS,
  setNextRotation,
  uniqueScope,
} from '../secrets/support.js';

const HOUR = 3600;
const DAY = 86_400;
const noop: Rotator = { create: () => ({ value: 'x', version: 'v' }), apply() {}, test() {} };

/** The error `run` throws; fails the test when it returns. */
function thrownBy(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a throw');
}

describe.each(backends)('RotationScheduler on %s', (backend) => {
  const database = useDatabase(backend);

  function setup(options: Partial<ConstructorParameters<typeof RotationScheduler>[0]> = {}) {
    const { store } = database();
    const secrets = new SecretsManager({ store });
    const scheduler = new RotationScheduler({ store, secrets, ...options });
    const events = recordEvents(scheduler, SCHEDULER_EVENTS);

    return { store, secrets, scheduler, events };
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('scan', () => {
    it('emits rotation:due for a due secret, and no overdue alert under a day late', async () => {
      const { store, secrets, scheduler, events } = setup();
      const due = await newSecret(secrets);
      const notDue = await newSecret(secrets);
      await setNextRotation(store, due.id, -23 * HOUR);

      await scheduler.scan();

      const [event] = eventsOf(events, due.scope);
      expect(event?.name).toBe('rotation:due');
      expect(event?.payload).toMatchObject({
        scope: due.scope,
        keyName: due.keyName,
        rotating: false,
      });
      expect(event!.payload.nextRotationAt).toBeInstanceOf(Date);
      expect(event!.payload.lateMs).toBeGreaterThanOrEqual(23 * HOUR * 1000);
      expect(event!.payload.lateMs).toBeLessThan(DAY_MS);
      expect(eventsOf(events, due.scope)).toHaveLength(1);
      expect(eventsOf(events, notDue.scope)).toEqual([]);
    });

    it.each([
      ['warning', 25 * HOUR],
      ['warning', 7 * DAY - HOUR],
      ['critical', 7 * DAY + HOUR],
      ['critical', 90 * DAY],
    ])('raises a %s overdue alert %i seconds late', async (level, lateSeconds) => {
      const { store, secrets, scheduler, events } = setup();
      const { id, scope } = await newSecret(secrets);
      await setNextRotation(store, id, -lateSeconds);

      await scheduler.scan();

      expect(eventsOf(events, scope).map((e) => e.name)).toEqual([
        'rotation:due',
        'rotation:overdue',
      ]);
      expect(eventsOf(events, scope, 'rotation:overdue')[0]!.payload).toMatchObject({
        level,
        lateMs: expect.any(Number),
        rotating: false,
      });
      const lateMs = eventsOf(events, scope, 'rotation:overdue')[0]!.payload.lateMs as number;
      expect(lateMs).toBeGreaterThanOrEqual(lateSeconds * 1000);
      expect(lateMs).toBeLessThan((lateSeconds + 600) * 1000);
    });

    it('keeps a late secret overdue while a rotation of it is open', async () => {
      const { store, secrets, scheduler, events } = setup();
      const late = await newSecret(secrets);
      const recent = await newSecret(secrets);
      await setNextRotation(store, late.id, -2 * DAY);
      await setNextRotation(store, recent.id, -HOUR);
      for (const { scope, keyName } of [late, recent]) {
        await secrets.startRotation({ scope, keyName, rotationType: 'scheduled', actor: 'ops' });
      }

      await scheduler.scan();

      // A rotation is under way, but the secret is late until it completes.
      expect(eventsOf(events, late.scope).map((e) => e.name)).toEqual([
        'rotation:due',
        'rotation:overdue',
      ]);
      expect(eventsOf(events, late.scope, 'rotation:overdue')[0]!.payload).toMatchObject({
        keyName: late.keyName,
        level: 'warning',
        rotating: true,
      });
      expect(eventsOf(events, recent.scope).map((e) => e.name)).toEqual(['rotation:due']);
      expect(eventsOf(events, recent.scope)[0]!.payload).toMatchObject({ rotating: true });
    });

    it('reminds about a secret due soon that has no rotator, and not about others', async () => {
      const { store, secrets } = setup();
      const automated = uniqueScope('auto');
      const { scheduler, events } = setup({ rotators: { [automated]: noop } });
      const soon = await newSecret(secrets);
      const later = await newSecret(secrets);
      const rotated = await newSecret(secrets, { scope: automated });
      await setNextRotation(store, soon.id, 3 * DAY);
      await setNextRotation(store, later.id, 10 * DAY);
      await setNextRotation(store, rotated.id, 3 * DAY);

      await scheduler.scan();

      expect(eventsOf(events, soon.scope).map((e) => e.name)).toEqual(['rotation:reminder']);
      const dueInMs = eventsOf(events, soon.scope)[0]!.payload.dueInMs as number;
      expect(dueInMs).toBeGreaterThan(3 * DAY_MS - 600_000);
      expect(dueInMs).toBeLessThanOrEqual(3 * DAY_MS);
      expect(eventsOf(events, later.scope)).toEqual([]);
      expect(eventsOf(events, automated)).toEqual([]);
    });

    it('widens the reminder window with dueSoonDays', async () => {
      const { store, secrets, scheduler, events } = setup({ dueSoonDays: 14 });
      const later = await newSecret(secrets);
      await setNextRotation(store, later.id, 10 * DAY);

      await scheduler.scan();

      expect(eventsOf(events, later.scope).map((e) => e.name)).toEqual(['rotation:reminder']);
    });

    it('finds no rotator for a scope named like an Object.prototype member', async () => {
      const { store, secrets, scheduler, events } = setup();
      const { id } = await newSecret(secrets, { scope: 'toString' });
      await setNextRotation(store, id, DAY);

      await scheduler.scan();

      expect(eventsOf(events, 'toString').map((e) => e.name)).toEqual(['rotation:reminder']);
    });

    it('leaves due secrets alone without autoStart', async () => {
      const { store, secrets, scheduler, events } = setup();
      const due = await newSecret(secrets);
      await setNextRotation(store, due.id, -HOUR);

      await scheduler.scan();

      expect(await secrets.history({ scope: due.scope, keyName: due.keyName })).toEqual([]);
      expect(events.find((e) => e.name === 'scheduler:scanned')?.payload.started).toBe(0);
    });
  });

  describe('scan with autoStart', () => {
    it('starts each due secret exactly once when three schedulers scan at once', async () => {
      const db = database();
      const stores: M28Store[] = db.connectAnother
        ? await Promise.all([db.connectAnother(3), db.connectAnother(3), db.connectAnother(3)])
        : [db.store, db.store, db.store];
      const managers = stores.map((store) => new SecretsManager({ store }));
      const recorders = managers.map((secrets) => recordEvents(secrets, SECRETS_EVENTS));
      const schedulers = stores.map(
        (store, i) => new RotationScheduler({ store, secrets: managers[i]!, autoStart: true }),
      );
      const errors = schedulers.map((s) => recordEvents(s, ['error']));
      const due = [];
      for (let i = 0; i < 5; i += 1) {
        const secret = await newSecret(managers[0]!);
        await setNextRotation(db.store, secret.id, -HOUR);
        due.push(secret);
      }

      await Promise.all(schedulers.map((scheduler) => scheduler.scan()));

      expect(errors.flat()).toEqual([]);
      const started = recorders.flat();
      for (const secret of due) {
        const history = await managers[0]!.history(secret);
        expect(history.map((h) => [h.rotation_type, h.status, h.initiated_by])).toEqual([
          ['scheduled', 'in_progress', 'rotation-scheduler'],
        ]);
        expect(eventsOf(started, secret.scope, 'rotation:started')).toHaveLength(1);
      }
      await Promise.all(schedulers.map((scheduler) => scheduler.close()));
    });
  });

  describe('constructor', () => {
    it.each([
      ['options.batchSize', { batchSize: 0 }],
      ['options.intervalMs', { intervalMs: -5 }],
      ['options.dueSoonDays', { dueSoonDays: Number.NaN }],
      ['options.actor', { actor: ' ' }],
      ['options.actor', { actor: 'a'.repeat(101) }],
      ['options.rotators.stripe.test', { rotators: { stripe: { ...noop, test: undefined } } }],
      ['options.rotators.stripe.retries', { rotators: { stripe: { ...noop, retries: Infinity } } }],
    ])('refuses a bad %s at construction', (field, options) => {
      const { store } = database();
      const secrets = new SecretsManager({ store });

      const error = thrownBy(
        () => new RotationScheduler({ store, secrets, ...(options as object) }),
      );

      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe(field);
    });
  });

  describe('start and close', () => {
    it('scans once per interval however often start is called, and stops on close', async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const { scheduler } = setup({ intervalMs: 1000 });
      const scan = vi.spyOn(scheduler, 'scan').mockResolvedValue();

      scheduler.start();
      scheduler.start();
      vi.advanceTimersByTime(3000);
      expect(scan).toHaveBeenCalledTimes(3);

      await scheduler.close();
      await scheduler.close();
      vi.advanceTimersByTime(3000);
      expect(scan).toHaveBeenCalledTimes(3);
    });

    it('emits error and keeps running when a background scan fails', async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const { scheduler, events } = setup({ intervalMs: 1000 });
      vi.spyOn(scheduler, 'scan').mockRejectedValue(new Error('database down'));

      scheduler.start();
      vi.advanceTimersByTime(2000);
      await vi.waitFor(() => expect(events.filter((e) => e.name === 'error')).toHaveLength(2));
      await scheduler.close();
    });
  });
});
