import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url locates the shipped drizzle/ folder; tsup shims it in the CJS build.
  shims: true,
  external: ['@electric-sql/pglite'],
});
