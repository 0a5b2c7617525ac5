import { sql } from 'drizzle-orm';

import type { M28Store } from '../src/index.js';
import { median } from './support/measure.js';
import { formatRatio, printTable, verdict, type SummaryRow } from './support/report.js';

const SECRETS = 100_000;
const DUE_EVERY = 100; // 1% due
const ROUNDS = 15;

/** The scheduler's scan for due secrets, as RotationScheduler runs it. */
const DUE_QUERY = sql`select scope, key_name, next_rotation_at from m28.secrets_config
  where status = 'active' and next_rotation_at is not null and next_rotation_at <= now()
  order by next_rotation_at`;

async function seed(store: M28Store): Promise<void> {
  // One secret in a hundred is a day late; the rest are due in 1 to 90 days.
  await store.query(sql`
    insert into m28.secrets_config (scope, key_name, key_type, next_rotation_at)
    select 'bench_' || (i % 500), 'key_' || i, 'api_key',
      case when i % ${DUE_EVERY} = 0 then now() - interval '1 day'
           else now() + (1 + i % 90) * interval '1 day' end
    from generate_series(1, ${SECRETS}) as i`);
  await store.query(sql`analyze m28.secrets_config`);
}

async function timeQuery(store: M28Store, sequential: boolean): Promise<number> {
  return store.db.transaction(async (tx) => {
    if (sequential) {
      await store.query(sql`set local enable_indexscan = off`, tx);
      await store.query(sql`set local enable_bitmapscan = off`, tx);
      await store.query(sql`set local enable_indexonlyscan = off`, tx);
    }
    const started = process.hrtime.bigint();
    const rows = await store.query(DUE_QUERY, tx);
    const elapsed = Number(process.hrtime.bigint() - started);
    if (rows.length !== SECRETS / DUE_EVERY) {
      throw new Error(`expected ${SECRETS / DUE_EVERY} due secrets, got ${rows.length}`);
    }

    return elapsed;
  });
}

async function plan(store: M28Store): Promise<string> {
  const rows = await store.query<{ 'QUERY PLAN': string }>(sql`explain ${DUE_QUERY}`);

  return rows.map((row) => `    ${row['QUERY PLAN']}`).join('\n');
}

/**
 * Seeds 100,000 secrets, 1% due, and times the scheduler's due-secrets query against the
 * same query forced to a sequential scan, interleaved round by round.
 */
export async function benchDueSecrets(backend: string, store: M28Store): Promise<SummaryRow[]> {
  await seed(store);
  const indexed: number[] = [];
  const sequential: number[] = [];
  await timeQuery(store, false);
  await timeQuery(store, true);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const seq of order) {
      (seq ? sequential : indexed).push(await timeQuery(store, seq));
    }
  }

  const index = median(indexed) / 1e6;
  const scan = median(sequential) / 1e6;
  const ratio = index / scan;
  console.log(`[${backend}] the due-secrets query, ${SECRETS} secrets, 1% due, plan used:`);
  console.log(await plan(store));
  printTable(
    ['Variant', 'median ms', 'vs sequential scan'],
    [
      [`partial index (${backend})`, index.toFixed(2), formatRatio(ratio)],
      [`forced sequential scan (${backend})`, scan.toFixed(2), '1.00x'],
    ],
  );

  return [
    {
      benchmark: `due secrets (${backend}): index / sequential scan`,
      baseline: `${scan.toFixed(2)} ms`,
      measured: `${index.toFixed(2)} ms`,
      ratio: formatRatio(ratio),
      goal: '< 1.00x',
      verdict: verdict(ratio < 1),
    },
  ];
}
