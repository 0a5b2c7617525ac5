import { randomUUID } from 'node:crypto';

import postgres from 'postgres';

/** A database created for one bench run, on the server of `DATABASE_URL`. */
export interface BenchDatabase {
  readonly name: string;
  /** The URL of the new database. */
  readonly url: string;
  /** Drops the database, closing whatever is still connected to it. */
  readonly drop: () => Promise<void>;
}

/** Creates `m28_bench_<random>` next to the database in `baseUrl`. */
export async function createBenchDatabase(baseUrl: string): Promise<BenchDatabase> {
  const name = `m28_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }

  const url = new URL(baseUrl);
  url.pathname = `/${name}`;

  return {
    name,
    url: url.toString(),
    drop: async () => {
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}
