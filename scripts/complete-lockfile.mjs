#!/usr/bin/env node
/**
 * The registry mirror on our build machines answers platform-specific optional packages
 * (e.g. @rollup/rollup-darwin-arm64, @chdb/lib-darwin-x64) without the requested version, so
 * `npm install` writes a lockfile that lacks them and `npm ci` then refuses it as out of sync.
 * This adds the missing optional entries (version, optional, os/cpu inferred from the name) so
 * `npm ci` accepts the lockfile and skips them on this platform. Run after `npm install`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = [
  ['darwin', 'darwin'],
  ['linux', 'linux'],
  ['win32', 'win32'],
  ['windows', 'win32'],
  ['freebsd', 'freebsd'],
  ['openbsd', 'openbsd'],
  ['netbsd', 'netbsd'],
  ['android', 'android'],
  ['sunos', 'sunos'],
  ['aix', 'aix'],
  ['openharmony', 'openharmony'],
];
const CPU = [
  ['arm64', 'arm64'],
  ['aarch64', 'arm64'],
  ['x64', 'x64'],
  ['x86_64', 'x64'],
  ['ia32', 'ia32'],
  ['arm', 'arm'],
  ['loong64', 'loong64'],
  ['ppc64', 'ppc64'],
  ['riscv64', 'riscv64'],
  ['s390x', 's390x'],
  ['mips64el', 'mips64el'],
  ['wasm32', 'wasm32'],
];

function infer(name, table) {
  const parts = name.toLowerCase().split(/[-/_@.]/);
  for (const [token, value] of table) if (parts.includes(token)) return [value];
  return undefined;
}

function resolveFrom(parentPath, dep) {
  // npm's lookup: nearest node_modules up the tree, then the root.
  let base = parentPath;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const idx = base.lastIndexOf('/node_modules/');
    base = idx >= 0 ? base.slice(0, idx) : '';
  }
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    if (resolveFrom(path, dep)) continue;
    const target = path ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    const version = String(range).replace(/^[\^~=]/, '');
    const entry = { version, dev: meta.dev || undefined, optional: true, os: infer(dep, OS), cpu: infer(dep, CPU) };
    packages[target] = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
