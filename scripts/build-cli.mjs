#!/usr/bin/env node
/**
 * Bundles the CLI into dist/cli/main.mjs (npm runs this on install as `prepare`), so
 * `npx strata …` starts without transpiling TypeScript on every call (~0.4 s saved).
 * dist/cli sits two levels below the root like src/<folder>/, so the migrations' relative URLs
 * still resolve. Never fails the install: bin/strata.mjs falls back to tsx without a bundle.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTERNAL = [
  'chdb',
  'chdb/*',
  '@chdb/*',
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
  'libpg-query',
  'pg',
  'pg-native',
  'ws',
  'graphql',
  'pino',
  'exceljs',
  'tsx',
  'tsx/*',
  'esbuild',
  'nodemailer',
  '@clickhouse/client',
  '@clickhouse/client-common',
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  const { build } = await import('esbuild');
  rmSync(join(root, 'dist/cli'), { recursive: true, force: true });
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  await build({
    entryPoints: [join(root, 'src/main.ts')],
    outdir: join(root, 'dist/cli'),
    outExtension: { '.js': '.mjs' },
    entryNames: '[name]',
    // Code splitting keeps dynamic imports lazy: `strata query` never loads GraphQL, PGlite or jose.
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Pure-JS dependencies are bundled (one file to load instead of hundreds: module resolution was
    // ~0.5 s of a start); these stay packages: native or WebAssembly files found next to their
    // code (chdb, PGlite, libpg-query), optional native add-ons (pg, ws), graphql (one instance
    // shared by every user), and what loads lazily or spawns workers from its own files.
    external: EXTERNAL,
    // Bundled CommonJS packages require Node built-ins: give each chunk a real require.
    banner: { js: "import { createRequire as __strataRequire } from 'node:module'; const require = __strataRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'src/catalog-engine/catalog-worker.mjs'), join(root, 'dist/cli/catalog-worker.mjs'));
  console.log('built dist/cli/main.mjs');
} catch (e) {
  console.warn(`strata: CLI bundle not built (${e instanceof Error ? e.message : e}); the CLI will run through tsx`);
}
