#!/usr/bin/env bash
# Packs the package and installs the tarball into a fresh project outside the repository,
# then uses it from ESM and from CommonJS: migrate an embedded database, wrap a call,
# fingerprint a key. `npm pack` builds first, through the prepack script.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)
pglite=$(node -p "require('$repo/node_modules/@electric-sql/pglite/package.json').version")
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "./$tarball" "@electric-sql/pglite@$pglite" >/dev/null

cat > esm.mjs <<'JS'
import { connectPglite, createOps, fingerprint, isBreakerOpenError } from 'm28-ops';

const store = await connectPglite();
const { version } = await store.migrate();
const ops = createOps({ store, migrate: false, defaults: { failureThreshold: 1 } });
await ops.start();
const call = ops.wrap('stripe', 'payment', async (ok) => {
  if (!ok) throw new Error('down');
  return 'charged';
});
const answer = await call(true);
await call(false).catch(() => undefined);
const refused = await call(true).catch((error) => error);
await ops.close();
await store.close();
if (answer !== 'charged' || !isBreakerOpenError(refused) || version < 0) {
  throw new Error('esm: unexpected result');
}
if (!fingerprint('abc').startsWith('sha256:ba7816bf')) throw new Error('esm: fingerprint');
console.log('esm ok: migrated to', version);
JS

cat > cjs.cjs <<'JS'
const { connectPglite, createOps, fingerprint, isBreakerOpenError } = require('m28-ops');

(async () => {
  const store = await connectPglite();
  const { version } = await store.migrate();
  const ops = createOps({ store, migrate: false, defaults: { failureThreshold: 1 } });
  await ops.start();
  const call = ops.wrap('stripe', 'payment', async () => {
    throw new Error('down');
  });
  await call().catch(() => undefined);
  const refused = await call().catch((error) => error);
  await ops.close();
  await store.close();
  if (!isBreakerOpenError(refused) || version < 0) throw new Error('cjs: unexpected result');
  if (!fingerprint('abc').startsWith('sha256:ba7816bf')) throw new Error('cjs: fingerprint');
  console.log('cjs ok: migrated to', version);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
JS

node esm.mjs
node cjs.cjs
