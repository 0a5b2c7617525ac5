/**
 * The soak: `npm run soak -- --seconds 60` against DATABASE_URL (a PostgreSQL superuser).
 *
 * It creates a fresh database m28_soak_<random>, migrates it, seeds ten due secrets, and runs
 * four instance processes (scripts/soak/instance.ts), each with createOps() on its own pool:
 * mixed traffic to stripe/payment, twilio/sms and fcm/push through a fault schedule (twilio
 * fails outright, then fcm is slower than the timeout, then all is well; last, a drain tail
 * of slow calls that outlast a flush), toggles and manual rotations from instance 0, and
 * schedulers auto-starting due rotations everywhere. Meanwhile this process makes rotated
 * secrets due again every few seconds, watches for duplicate open rotations, and once
 * terminates every connection to the database, at a moment when one of them is inside a
 * transaction. At the end it checks the invariants (scripts/soak/checks.ts), prints each with
 * PASS or FAIL, drops the database, and exits 1 on any FAIL, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';

import {
  conserved,
  exercised,
  flat,
  noDuplicateRotation,
  noLostTransition,
  persistedEqualsMemory,
  type Check,
} from './soak/checks.js';
import {
  createSoakDatabase,
  duplicateOpenRotations,
  makeDue,
  readPersisted,
  terminateAll,
  type FaultMode,
  type SoakDatabase,
} from './soak/database.js';
import { messageOf, sleep, spawnInstance, type Instance } from './soak/io.js';
import { INSTANCES, planFor, type InstanceReport } from './soak/plan.js';

const print = (line: string) => process.stdout.write(`${line}\n`);

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  process.stderr.write(
    'soak needs DATABASE_URL: a PostgreSQL superuser URL, such as ' +
      'postgres://postgres@127.0.0.1:5432/postgres\n',
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    // `mid-transaction` is the worst moment for a client, and the default; `idle` waits for
    // a moment when no connection is inside a transaction.
    fault: { type: 'string', default: 'mid-transaction' },
  },
});
if (values.fault !== 'idle' && values.fault !== 'mid-transaction') {
  process.stderr.write(`--fault must be idle or mid-transaction, not ${values.fault}\n`);
  process.exit(2);
}
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 10 || seconds > 3600) {
  process.stderr.write(`--seconds must be an integer from 10 to 3600, not ${values.seconds}\n`);
  process.exit(2);
}

const plan = planFor(seconds);
const instances: Instance[] = [];
let database: SoakDatabase | undefined;

/** What the parent saw during the run. */
const watch = {
  duplicates: 0,
  polls: 0,
  madeDue: 0,
  terminated: 0,
  midTransaction: false,
  errors: [] as string[],
};

async function during(t0: number): Promise<void> {
  const endAt = t0 + plan.durationMs;
  let nextDue = t0 + plan.makeDueEveryMs;
  let faulted = false;
  // One tick every 250 ms: bounded by the run's length, and in count.
  for (let tick = 0; tick < seconds * 8 && Date.now() < endAt; tick += 1) {
    await sleep(250);
    const now = Date.now();
    try {
      if (!faulted && now >= t0 + plan.dbFaultAt) {
        faulted = true;
        const fault = await terminateAll(baseUrl!, database!.name, values.fault as FaultMode);
        watch.terminated = fault.terminated;
        watch.midTransaction = fault.midTransaction;
        print(
          `soak: t+${Date.now() - t0} ms, terminated ${fault.terminated} connections ` +
            `(${fault.midTransaction ? 'one of them' : 'none'} inside a transaction)`,
        );
        continue;
      }
      if (now >= nextDue) {
        nextDue += plan.makeDueEveryMs;
        watch.madeDue += await makeDue(database!);
      }
      if (tick % 4 === 0) {
        watch.polls += 1;
        watch.duplicates += await duplicateOpenRotations(database!.sql);
      }
    } catch (error) {
      // The parent's own connection is terminated too; it reconnects on the next query.
      watch.errors.push(messageOf(error));
    }
  }
}

async function main(): Promise<number> {
  print(`soak: ${seconds} s, ${INSTANCES} instances, plan ${JSON.stringify(plan)}`);
  database = await createSoakDatabase(baseUrl!);
  print(`soak: database ${database.name} migrated and seeded`);
  for (let index = 0; index < INSTANCES; index += 1) {
    instances.push(
      spawnInstance(`instance-${index}`, {
        SOAK_URL: database.url,
        SOAK_INDEX: String(index),
        SOAK_SECONDS: String(seconds),
      }),
    );
  }
  await Promise.all(instances.map((i) => i.waitFor((m) => m.event === 'ready', 60_000)));
  const t0 = Date.now() + 500;
  instances.forEach((instance) => instance.send({ cmd: 'go', t0 }));
  await during(t0);

  const settled = await Promise.allSettled(
    instances.map((i) => i.waitFor((m) => m.event !== 'ready', 60_000)),
  );
  const exits = await Promise.all(
    instances.map((i) => Promise.race([i.exited, sleep(10_000).then(() => null)])),
  );
  const reports: InstanceReport[] = [];
  const checks: Check[] = [];
  for (const [index, result] of settled.entries()) {
    const exit = exits[index];
    const message = result.status === 'fulfilled' ? result.value : undefined;
    const ok = message?.event === 'report' && exit?.code === 0;
    if (message?.event === 'report') {
      reports.push(message as unknown as InstanceReport);
    }
    const why = result.status === 'rejected' ? messageOf(result.reason) : JSON.stringify(message);
    const stderr = exit?.stderr.trim() ? `; stderr: ${exit.stderr.trim().slice(-500)}` : '';
    checks.push({
      ok,
      line:
        `${ok ? 'PASS' : 'FAIL'} (run) instance ${index} reported and exited ` +
        `with ${exit ? `code ${exit.code}` : 'no exit in time'}${ok ? '' : `: ${why}`}${stderr}`,
    });
  }
  for (const r of reports) {
    print(
      `soak: instance ${r.index}: sink ${JSON.stringify(r.sink)}, dropped ${r.dropped}, ` +
        `errors ${r.errors} ${JSON.stringify(r.errorSamples.slice(0, 2))}, ` +
        `rotations ${JSON.stringify(r.rotations)}`,
    );
  }
  print(
    `soak: parent made ${watch.madeDue} secrets due again, ${watch.errors.length} errors ` +
      `${JSON.stringify(watch.errors.slice(0, 2))}`,
  );

  reports.sort((a, b) => a.index - b.index);
  const persisted = await readPersisted(database.sql);
  print(`soak: failed rotations by reason ${JSON.stringify(persisted.failureReasons)}`);
  checks.push(
    ...exercised(reports, persisted, watch),
    ...conserved(reports),
    ...persistedEqualsMemory(reports, persisted),
    ...noLostTransition(reports, persisted),
    ...noDuplicateRotation(persisted, database.madeDue, watch.duplicates, watch.polls),
    ...flat(reports),
  );
  checks.forEach((c) => print(c.line));
  const failed = checks.filter((c) => !c.ok).length;
  print(failed === 0 ? 'soak: all invariants PASS' : `soak: ${failed} invariant lines FAIL`);

  return failed === 0 ? 0 : 1;
}

async function cleanUp(): Promise<void> {
  instances.forEach((instance) => instance.kill());
  await Promise.race([Promise.all(instances.map((i) => i.exited)), sleep(5000)]);
  await database?.drop().catch((error: unknown) => {
    process.stderr.write(`soak: could not drop ${database?.name}: ${messageOf(error)}\n`);
  });
}

process.once('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

let code = 1;
try {
  code = await main();
} catch (error) {
  print(`FAIL (run) soak aborted: ${messageOf(error)}`);
} finally {
  await cleanUp();
}
process.exit(code);
