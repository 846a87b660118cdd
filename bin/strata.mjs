#!/usr/bin/env node
// `npx strata …`: runs the prebuilt bundle when it is newer than every source file, else the
// TypeScript sources through tsx (so an edited checkout never runs stale code).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli', 'main.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(join(root, 'src'));
const [cmd, args] = fresh ? [process.execPath, ['--enable-source-maps', bundle]] : [join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'main.ts')]];
const r = spawnSync(cmd, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
