/**
 * A scratch database for one run, made with node-postgres on DATABASE_URL's server: created
 * at the start, dropped at the end, so the example never touches the database in the URL.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

/** A database made for this run. */
export interface ScratchDatabase {
  readonly name: string;
  /** DATABASE_URL with the scratch database's name in place of its own. */
  readonly url: string;
  drop(): Promise<void>;
}

async function runOn(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
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
