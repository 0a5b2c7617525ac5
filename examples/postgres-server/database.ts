/**
 * A scratch database for one run on DATABASE_URL's server, made through the library's own
 * PostgreSQL driver (postgres.js): created at the start, dropped at the end.
 */
import { randomBytes } from 'node:crypto';

import { sql } from 'drizzle-orm';

import { connectPostgres } from '../../src/index.js';

/** A database made for this run. */
export interface ScratchDatabase {
  readonly name: string;
  /** DATABASE_URL with the scratch database's name in place of its own. */
  readonly url: string;
  drop(): Promise<void>;
}

async function runOn(url: string, statement: string): Promise<void> {
  const admin = await connectPostgres(url, { max: 1, applicationName: 'm28-example-admin' });
  try {
    await admin.query(sql.raw(statement));
  } finally {
    await admin.close();
  }
}

/** Creates `m28_example_<random>` on the server of `url`. */
export async function createScratchDatabase(url: string): Promise<ScratchDatabase> {
  // Random hex only: safe to splice into the statement, which takes no parameters.
  const name = `m28_example_${randomBytes(5).toString('hex')}`;
  await runOn(url, `create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;

  return {
    name,
    url: target.toString(),
    drop: () => runOn(url, `drop database if exists ${name} with (force)`),
  };
}
