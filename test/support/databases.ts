import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, inject } from 'vitest';

import { connectPglite, connectPostgres, type M28Store } from '../../src/index.js';
import { databaseUrlFor } from './urls.js';

/** A database engine the suite runs against. */
export type Backend = 'pglite' | 'postgres';

/** PGlite always; real PostgreSQL too when DATABASE_URL is set. */
export const backends: Backend[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/** A migrated database of the file's own, and the store connected to it. */
export interface TestDatabase {
  readonly backend: Backend;
  readonly store: M28Store;
  /** Opens another store on the same database (PostgreSQL only: PGlite has one connection). */
  readonly connectAnother?: (max?: number) => Promise<M28Store>;
  /** For PostgreSQL: the database URL. */
  readonly url?: string;
  readonly close: () => Promise<void>;
}

/** Clones the run's migrated template into a database for one test file. */
export async function openDatabase(backend: Backend, max = 10): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const template = await readFile(inject('pgliteTemplate'));
    const store = await connectPglite({ loadDataDir: new Blob([template]) });

    return { backend, store, close: () => store.close() };
  }

  const baseUrl = process.env.DATABASE_URL as string;
  const name = `m28_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = await connectPostgres(baseUrl, { max: 1 });
  await createFromTemplate(admin, name, inject('postgresTemplate'));
  const url = databaseUrlFor(baseUrl, name);
  const store = await connectPostgres(url, { max });
  const others: M28Store[] = [];

  return {
    backend,
    store,
    url,
    connectAnother: async (anotherMax = 10) => {
      const another = await connectPostgres(url, { max: anotherMax });
      others.push(another);

      return another;
    },
    close: async () => {
      await Promise.all([store, ...others].map((s) => s.close()));
      await admin.query(sql.raw(`drop database if exists ${name} with (force)`));
      await admin.close();
    },
  };
}

async function createFromTemplate(admin: M28Store, name: string, template: string) {
  // Two files cloning at the same instant can see "source database is being accessed".
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin.query(sql.raw(`create database ${name} template ${template}`));

      return;
    } catch (error) {
      if (attempt >= 20) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 50));
    }
  }
}

/**
 * Opens one database per backend for the whole file, and closes them after it.
 * Returns a getter, since the databases exist only once `beforeAll` has run.
 */
export function useDatabase(backend: Backend, max?: number): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await openDatabase(backend, max);
  });
  afterAll(async () => {
    await database?.close();
  });

  return () => {
    if (!database) {
      throw new Error('the test database is not open yet');
    }

    return database;
  };
}
