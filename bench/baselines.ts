/**
 * Before/after: the headline figures of earlier full runs, kept in bench/baselines.json (each
 * written by `npm run bench -- --save-baseline "label"` from that run's own results), shown next
 * to the current run in BENCHMARKS.md. Never typed in by hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { LoadResult } from './load.js';
import type { Results } from './run.js';
import { summarize } from './stats.js';

export interface Headline {
  readonly label: string;
  readonly date: string;
  readonly commit: string;
  readonly factRows: number;
  readonly compileP50Us: number;
  /** Widgets within 1.15 x floor + 1 ms, of `widgets`. */
  readonly uncachedWithin: number;
  readonly widgets: number;
  /** Median over widgets of GraphQL p50 minus floor p50. */
  readonly uncachedOverheadMs: number;
  readonly cachedRps: number | null;
  readonly cachedP99Ms: number | null;
  readonly rssWithSubscriptionsMiB: number | null;
  readonly pushP50Ms: number | null;
  readonly pushP95Ms: number | null;
  readonly evaluationsPerChange: number | null;
  readonly ingestRowsPerSecond: number | null;
}

export function headline(r: Results, label: string): Headline {
  const W = r.widgets;
  const cachedOk = r.cachedLoad.filter((l) => l.p99 <= 30 && l.errors === 0 && l.non2xx === 0);
  const best = cachedOk.reduce<LoadResult | undefined>((b, l) => (!b || l.rps > b.rps ? l : b), undefined);
  return {
    label,
    date: r.startedAt.slice(0, 16).replace('T', ' '),
    commit: r.commit ?? gitCommit(),
    factRows: r.dataset.factRows,
    compileP50Us: summarize(W.map((w) => w.compileUs.p50)).p50,
    uncachedWithin: W.filter((w) => w.graphql.p50 <= 1.15 * w.floor.p50 + 1).length,
    widgets: W.length,
    uncachedOverheadMs: summarize(W.map((w) => w.graphql.p50 - w.floor.p50)).p50,
    cachedRps: best?.rps ?? null,
    cachedP99Ms: best?.p99 ?? null,
    rssWithSubscriptionsMiB: r.live ? r.live.rssAfter / 1024 ** 2 : null,
    pushP50Ms: r.live?.push.p50 ?? null,
    pushP95Ms: r.live?.push.p95 ?? null,
    evaluationsPerChange: r.live?.evaluationsPerChange ?? null,
    ingestRowsPerSecond: r.ingest?.rowsPerSecond ?? null,
  };
}

export function readBaselines(path: string): Headline[] {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Headline[]) : [];
}

export function saveBaseline(path: string, h: Headline): void {
  writeFileSync(path, `${JSON.stringify([...readBaselines(path), h], null, 2)}\n`);
}

export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // The files the bench itself writes do not make the measured code dirty.
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md', ':!bench/baselines.json'], {
      encoding: 'utf8',
    });
    const dirty = status.trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}
