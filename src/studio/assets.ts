/**
 * Studio's built files (dist/studio, made by scripts/build-studio.mjs at install and image build):
 * read once on first request and held in memory with their gzip form (≈ 0.7 MB; a server with Studio
 * off never reads them). Names are content-hashed, so browsers may cache them for good.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

/** dist/studio, two levels above this file in src/ and in the bundle (dist/cli) alike. */
const DIST = fileURLToPath(new URL('../../dist/studio/', import.meta.url));

export interface StudioAsset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly etag: string;
}

export interface StudioBuild {
  readonly js: string;
  readonly css: string;
  readonly files: ReadonlyMap<string, StudioAsset>;
}

const gzipAsync = promisify(gzip);
const TYPES: Readonly<Record<string, string>> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', txt: 'text/plain; charset=utf-8' };

let loaded: { promise: Promise<StudioBuild | null>; mtimeMs: number } | undefined;

async function asset(name: string): Promise<StudioAsset> {
  const body = await readFile(join(DIST, name));
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return { type: TYPES[ext] ?? 'application/octet-stream', body, gzipped: await gzipAsync(body), etag: `"${name}"` };
}

/**
 * The build, or null when it is missing (the page then says how to build it). Read again when
 * manifest.json changes, so `npm run build:studio` on a running server takes effect on reload.
 */
export async function studioBuild(dir = DIST): Promise<StudioBuild | null> {
  const mtimeMs = await stat(join(dir, 'manifest.json')).then(
    (s) => s.mtimeMs,
    () => -1,
  );
  if (dir !== DIST) return readBuild(dir);
  if (!loaded || loaded.mtimeMs !== mtimeMs) loaded = { promise: readBuild(dir), mtimeMs };
  return loaded.promise;
}

async function readBuild(dir: string): Promise<StudioBuild | null> {
  let manifest: { js?: unknown; css?: unknown };
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  if (typeof manifest.js !== 'string' || typeof manifest.css !== 'string') return null;
  const names = [manifest.js, manifest.css, `${manifest.js}.LEGAL.txt`];
  const files = new Map<string, StudioAsset>();
  for (const name of names) {
    try {
      files.set(name, await asset(name));
    } catch {
      if (!name.endsWith('.txt')) return null;
    }
  }
  return { js: manifest.js, css: manifest.css, files };
}
