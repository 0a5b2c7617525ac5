/**
 * Many instances, one database: with `sharedTrip`, a breaker that opens on one of four
 * processes opens on the three others over LISTEN/NOTIFY, until the same next attempt, and
 * their calls are refused. Without it, the others stay closed and their calls go through.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createDatabase, useChildren, type Child, type Message } from './children.js';

const INSTANCES = 4;
/** How soon the trip must reach every other process, and how long the control waits. */
const BOUND_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(process.env.DATABASE_URL)(
  `shared trip across ${INSTANCES} processes (needs PostgreSQL in DATABASE_URL)`,
  () => {
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    beforeAll(async () => {
      database = await createDatabase(inject('postgresTemplate'));
    });
    afterAll(async () => {
      await database?.drop();
    });
    // Registered after the database's hooks, so that it runs before them.
    const spawnChild = useChildren();
    let instances: Child[] = [];

    beforeAll(async () => {
      instances = Array.from({ length: INSTANCES }, (_, i) =>
        spawnChild('multi-trip-instance.ts', `instance-${i}`, { M28_URL: database!.url }),
      );
      await Promise.all(
        instances.map((child) => child.waitFor((m) => m.event === 'ready', 25_000)),
      );
    }, 40_000);

    /** Sends `command` to each of `targets` and waits for each one's reply `event`. */
    function ask(targets: readonly Child[], command: Record<string, unknown>, event: string) {
      const marks = targets.map((child) => child.messages.length);
      targets.forEach((child) => child.send(command));

      return Promise.all(
        targets.map((child, i) => child.waitFor((m) => m.event === event, 10_000, marks[i])),
      );
    }

    /** Starts createOps() everywhere; returns the message index each run's output starts at. */
    async function startAll(provider: string, sharedTrip: boolean) {
      const marks = instances.map((child) => child.messages.length);
      const started = await ask(instances, { cmd: 'go', provider, sharedTrip }, 'started');
      expect(started.map((m) => m.state)).toEqual(Array(INSTANCES).fill('closed'));

      return marks;
    }

    const since = (marks: readonly number[], event: string) =>
      instances.map((child, i) => child.messages.slice(marks[i]).filter((m) => m.event === event));

    it(`with sharedTrip, one trip opens the breaker on the ${INSTANCES - 1} others`, async (t) => {
      const marks = await startAll('stripe/payment', true);
      const [origin, ...others] = instances as [Child, ...Child[]];

      const [tripped] = await ask([origin], { cmd: 'fail' }, 'tripped');
      expect(tripped).toMatchObject({ calls: 3, state: 'open' });
      const opened = await origin.waitFor((m) => m.event === 'open', 1000, marks[0]);
      expect(opened.shared).toBe(false);
      // Waits past the bound, so that a slow trip is measured and reported, not timed out.
      const learned: Message[] = await Promise.all(
        others.map((child, i) =>
          child.waitFor((m) => m.event === 'open', BOUND_MS + 5000, marks[i + 1]),
        ),
      );
      const delays = learned.map((m) => (m.at as number) - (opened.at as number));
      const text = `trip reached the others after ${delays.join(', ')} ms`;
      await t.annotate(text);

      expect(Math.max(...delays), text).toBeLessThanOrEqual(BOUND_MS);
      expect(learned.map((m) => [m.key, m.shared, m.nextAttemptAt])).toEqual(
        Array(INSTANCES - 1).fill(['stripe/payment', true, opened.nextAttemptAt]),
      );

      const probes = await ask(instances, { cmd: 'probe' }, 'probe');
      expect(probes.map((m) => [m.state, m.outcome])).toEqual(
        Array(INSTANCES).fill(['open', 'breaker_open']),
      );
      // Each breaker opened once: the origin's trip did not come back to it as an echo.
      expect(since(marks, 'open').map((list) => list.length)).toEqual(Array(INSTANCES).fill(1));
      expect(since(marks, 'error').flat()).toEqual([]);

      await ask(instances, { cmd: 'stop' }, 'stopped');
    });

    it(`without sharedTrip, the others stay closed for ${BOUND_MS} ms and more`, async () => {
      const marks = await startAll('adyen/payment', false);
      const [origin] = instances as [Child, ...Child[]];

      const [tripped] = await ask([origin], { cmd: 'fail' }, 'tripped');
      expect(tripped).toMatchObject({ calls: 3, state: 'open' });
      await sleep(BOUND_MS);

      const probes = await ask(instances, { cmd: 'probe' }, 'probe');
      expect(probes.map((m) => [m.state, m.outcome])).toEqual([
        ['open', 'breaker_open'],
        ...Array(INSTANCES - 1).fill(['closed', 'ok']),
      ]);
      expect(since(marks, 'open').map((list) => list.length)).toEqual([
        1,
        ...Array(INSTANCES - 1).fill(0),
      ]);
      expect(since(marks, 'error').flat()).toEqual([]);

      await ask(instances, { cmd: 'stop' }, 'stopped');
    });

    it('every instance exits cleanly when told', async () => {
      instances.forEach((child) => child.send({ cmd: 'exit' }));
      const exits = await Promise.all(instances.map((child) => child.exited));

      expect(exits.map((exit) => [exit.code, exit.stderr])).toEqual(Array(INSTANCES).fill([0, '']));
    });
  },
);
