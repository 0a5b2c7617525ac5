// Applies the M28 migrations to DATABASE_URL: `npm run db:migrate`.
import { connectPostgres } from '../src/index.js';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('db:migrate needs DATABASE_URL, for example postgres://user@host/db\n');
  process.exit(2);
}

const store = await connectPostgres(url, { max: 1 });
try {
  const result = await store.migrate();
  const applied = result.applied.length ? result.applied.join(', ') : 'none';
  process.stdout.write(`m28 schema at migration ${result.version}; applied now: ${applied}\n`);
} finally {
  await store.close();
}
