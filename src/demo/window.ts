/**
 * The demo's calendar window: DEMO_DAYS of daily data ending on `end` (inclusive). By default the
 * window ends yesterday (UTC) of the day the warehouse is seeded, so relative ranges ("last month",
 * "last 30 days", "yesterday") find rows on any day; tests and benchmarks pass FIXED_DEMO_END_DATE
 * so their numbers never move. Pure: the clock is a parameter.
 */
import { DEMO_DAYS } from './tenants.js';

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The window tests and benchmarks use (the demo's dates before it followed the clock). */
export const FIXED_DEMO_END_DATE = '2026-10-31';
export const FIXED_DEMO_START_DATE = '2024-11-01';

/** Data that ended more than this many days before today is reported as stale at start. */
export const DEMO_STALE_AFTER_DAYS = 3;

export interface DemoWindow {
  /** First day, "YYYY-MM-DD". */
  readonly start: string;
  /** Last day (inclusive), "YYYY-MM-DD". */
  readonly end: string;
  readonly days: number;
  /** Midnight UTC of `start`, in ms: day numbers in the plan count from here. */
  readonly startMs: number;
}

/** True for a real calendar date written "YYYY-MM-DD". */
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const t = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === text;
}

/** "YYYY-MM-DD" of the UTC day before `now`. */
export function yesterdayUtc(now: Date): string {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - DAY_MS).toISOString().slice(0, 10);
}

/** The window ending on `endDate`, or yesterday (UTC) by `now` when no end date is given. */
export function demoWindow(options: { endDate?: string; now?: () => Date } = {}): DemoWindow {
  const end = options.endDate ?? yesterdayUtc((options.now ?? (() => new Date()))());
  if (!isIsoDate(end)) throw new RangeError(`demo end date must be a calendar date YYYY-MM-DD, got "${end}"`);
  const endMs = Date.parse(`${end}T00:00:00Z`);
  const startMs = endMs - (DEMO_DAYS - 1) * DAY_MS;
  return { start: new Date(startMs).toISOString().slice(0, 10), end, days: DEMO_DAYS, startMs };
}

/** Whole days from `end` (a "YYYY-MM-DD" last data day) to yesterday (UTC) by `now`: 0 when current. */
export function daysBehind(end: string, now: Date): number {
  const yesterday = Date.parse(`${yesterdayUtc(now)}T00:00:00Z`);
  return Math.max(0, Math.round((yesterday - Date.parse(`${end}T00:00:00Z`)) / DAY_MS));
}

/**
 * The banner's lines about the demo data: its window, and — when it ended more than
 * DEMO_STALE_AFTER_DAYS before yesterday and no fixed end date was asked for — how to refresh it.
 */
export function demoBannerLines(dataset: { start: string; end: string } | undefined, now: Date, fixedEndDate?: string): string[] {
  const label = '  Demo data           ';
  const indent = ' '.repeat(label.length);
  if (!dataset) return [];
  const range = `${dataset.start} .. ${dataset.end}`;
  if (fixedEndDate) return [`${label}${range}  (fixed by DEMO_END_DATE)`];
  const behind = daysBehind(dataset.end, now);
  if (behind <= DEMO_STALE_AFTER_DAYS) return [`${label}${range}`];
  return [
    `${label}${range}  — ended ${behind + 1} days ago: relative ranges ("last month", "yesterday") may return nothing`,
    `${indent}refresh: stop the server, run \`npx strata seed\`, start again (replaces the demo tenants' rows only)`,
  ];
}
