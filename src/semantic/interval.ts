/** Cube interval strings ("7 day", "1 minute", "2 weeks") -> Interval. */
import type { Interval, IntervalUnit } from './model.js';

const UNITS: readonly IntervalUnit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];
const PATTERN = /^\s*(-?\d+)\s+([a-z]+?)s?\s*$/i;

/** Parses "N unit" (unit singular or plural); undefined when the text is not an interval. */
export function parseInterval(text: string): Interval | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const unit = m[2].toLowerCase() as IntervalUnit;
  if (!UNITS.includes(unit)) return undefined;
  return { amount: Number(m[1]), unit };
}

const SECONDS: Readonly<Record<IntervalUnit, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
  quarter: 7_776_000,
  year: 31_536_000,
};

/** Approximate length in seconds (months as 30 days) — only used for refresh cadences. */
export function intervalSeconds(i: Interval): number {
  return i.amount * SECONDS[i.unit];
}

export const INTERVAL_SYNTAX = '"<number> <second|minute|hour|day|week|month|quarter|year>", e.g. "7 day"';
