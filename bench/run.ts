import { cpus, loadavg } from 'node:os';

import { connectPglite, connectPostgres, type M28Store } from '../src/index.js';
import { benchDueSecrets } from './dueSecrets.js';
import { benchHotPath } from './hotPath.js';
import { benchMemory } from './memory.js';
import { benchStoreStatements } from './storeStatements.js';
import { benchStoreThroughput } from './storeThroughput.js';
import { createBenchDatabase } from './support/postgres.js';
import { printHeading, printSummary, type SummaryRow } from './support/report.js';

/** Throughput with and without a store, then the statement counts, on one backend. */
async function benchStore(backend: string, store: M28Store): Promise<SummaryRow[]> {
  return [
    ...(await benchStoreThroughput(backend, store)),
    ...(await benchStoreStatements(backend, store)),
    ...(await benchDueSecrets(backend, store)),
  ];
}

async function benchPostgres(baseUrl: string): Promise<SummaryRow[]> {
  const database = await createBenchDatabase(baseUrl);
  console.log(`[postgres] created database ${database.name}`);
  let store: M28Store | undefined;
  try {
    store = await connectPostgres(database.url);

    return await benchStore('postgres', store);
  } finally {
    await store?.close();
    await database.drop();
    console.log(`[postgres] dropped database ${database.name}`);
  }
}

const startedAt = Date.now();
const load = loadavg()
  .map((value) => value.toFixed(2))
  .join(' ');
console.log(
  `m28-ops bench: node ${process.version}, ${cpus().length} cores, load average ${load}. ` +
    'Figures are ratios against a baseline measured in the same run.',
);

const summary: SummaryRow[] = [];
summary.push(...(await benchHotPath()));
summary.push(...(await benchMemory()));

printHeading('Store attached: createOps() with a store vs without');
const pglite = await connectPglite();
try {
  summary.push(...(await benchStore('pglite', pglite)));
} finally {
  await pglite.close();
}
if (process.env.DATABASE_URL) {
  summary.push(...(await benchPostgres(process.env.DATABASE_URL)));
} else {
  console.log('[postgres] skipped: set DATABASE_URL to run against PostgreSQL too');
}

printHeading('Summary');
printSummary(summary);
console.log(`\nTotal time ${((Date.now() - startedAt) / 1000).toFixed(0)} s.`);
