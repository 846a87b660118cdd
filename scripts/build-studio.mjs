#!/usr/bin/env node
/**
 * Bundles Strata Studio (studio/src, Preact + ECharts) into dist/studio/: content-hashed JS and CSS
 * and manifest.json naming them, which the server reads (src/studio/assets.ts). npm runs this on
 * install (`prepare`) and the Dockerfile's build stage runs it, so nothing is fetched at run time.
 * Never fails an install: without a bundle the server answers /studio with how to build it.
 * `--check`: exit 1 when the bundle could not be built (the Dockerfile and tests use it).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/studio');
const check = process.argv.includes('--check');
try {
  const { build } = await import('esbuild');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: { studio: join(root, 'studio/src/main.tsx') },
    outdir: out,
    entryNames: '[name].[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const manifest = { js: files.find((f) => f.endsWith('.js')), css: files.find((f) => f.endsWith('.css')), builtAt: new Date().toISOString() };
  if (!manifest.js || !manifest.css) throw new Error(`unexpected outputs ${files.join(', ')}`);
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`built dist/studio/${manifest.js}`);
} catch (e) {
  console.warn(`strata: Studio bundle not built (${e instanceof Error ? e.message : e}); run npm run build:studio`);
  if (check) process.exit(1);
}
