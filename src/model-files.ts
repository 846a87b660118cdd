/**
 * The file-system side of model loading (semantic/ stays pure): every *.yml / *.yaml under a
 * directory, recursively, sorted by path, as { path, text } for loadModel.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ModelFileText {
  /** Relative to `root` (default: the working directory, i.e. the repo root), with "/" separators. */
  readonly path: string;
  readonly text: string;
}

export async function readModelFiles(dir: string, root: string = process.cwd()): Promise<ModelFileText[]> {
  const absDir = path.resolve(root, dir);
  const entries = await readdir(absDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .map((abs) => ({ abs, rel: path.relative(root, abs).split(path.sep).join('/') }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return Promise.all(files.map(async (f) => ({ path: f.rel, text: await readFile(f.abs, 'utf8') })));
}
