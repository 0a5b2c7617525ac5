import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'drizzle-orm';
import type { TestProject } from 'vitest/node';

import { connectPglite, connectPostgres } from '../../src/index.js';
import { adminUrl, databaseUrlFor } from './urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of a dumped, migrated PGlite data directory that each test file clones. */
    pgliteTemplate: string;
    /** Name of a migrated PostgreSQL template database, or '' without DATABASE_URL. */
    postgresTemplate: string;
  }
}

/**
 * Migrates once per run: a PGlite data directory dumped to a file, and, when DATABASE_URL is
 * set, a PostgreSQL template database. Each test file then clones its own copy.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomUUID().slice(0, 8);

  const pglite = await connectPglite();
  await pglite.migrate();
  const client = (pglite.db as unknown as { $client: import('@electric-sql/pglite').PGlite })
    .$client;
  const dump = await client.dumpDataDir('none');
  const templatePath = join(tmpdir(), `m28-pglite-template-${runId}.tar`);
  await writeFile(templatePath, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplate', templatePath);

  let postgresTemplate = '';
  const url = process.env.DATABASE_URL;
  if (url) {
    postgresTemplate = `m28_template_${runId}`;
    const admin = await connectPostgres(adminUrl(url), { max: 1 });
    await admin.query(sql.raw(`create database ${postgresTemplate}`));
    await admin.close();
    const template = await connectPostgres(databaseUrlFor(url, postgresTemplate), { max: 1 });
    await template.migrate();
    await template.close();
  }
  project.provide('postgresTemplate', postgresTemplate);

  return async () => {
    await rm(templatePath, { force: true });
    if (url && postgresTemplate) {
      const admin = await connectPostgres(adminUrl(url), { max: 1 });
      await admin.query(sql.raw(`drop database if exists ${postgresTemplate} with (force)`));
      await admin.close();
    }
  };
}
