/**
 * Date math for the compiler (pure; the clock is always passed in). Ranges are resolved to
 * local date-times "YYYY-MM-DDTHH:mm:ss.SSS" in the query's time zone, inclusive at both ends.
 */
import { DateTime, IANAZone, type DurationLikeObject } from 'luxon';
import { UserError } from '../errors.js';
import type { Granularity, LocalDateTime } from '../semantic/query.js';
import type { Interval, IntervalUnit } from '../semantic/model.js';

export const LOCAL_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS";
const LOCAL_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const UNIT = '(second|minute|hour|day|week|month|quarter|year)s?';

const zoneValidity = new Map<string, boolean>();
export function isValidTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  let ok = zoneValidity.get(tz);
  if (ok === undefined) {
    ok = IANAZone.isValidZone(tz);
    if (zoneValidity.size < 1_000) zoneValidity.set(tz, ok);
  }
  return ok;
}

export function toLocal(dt: DateTime): LocalDateTime {
  return dt.toFormat(LOCAL_FORMAT);
}

/** True for the normalized local format (what the compiler accepts from a NormalizedQuery). */
export function isLocalDateTime(value: unknown): value is LocalDateTime {
  if (typeof value !== 'string' || !LOCAL_PATTERN.test(value)) return false;
  const n = (a: number, b: number) => Number(value.slice(a, b));
  const [y, mo, d, h, mi, s] = [n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19)];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

export function fromLocal(value: LocalDateTime, tz: string): DateTime {
  return DateTime.fromFormat(value, LOCAL_FORMAT, { zone: tz });
}

function badDate(text: string, why = 'is not a date'): UserError {
  return new UserError('BAD_USER_INPUT', `invalid date "${text}": ${why}`, { value: text });
}

function plural(unit: string): keyof DurationLikeObject {
  return `${unit}s` as keyof DurationLikeObject;
}

/**
 * One end of a range. Date-only values and day words cover the whole day ("start" or "end" of it);
 * "now", "N units ago" and "N units from now" are instants; other text is an ISO/SQL date-time
 * read in the query zone (an explicit offset is converted to it).
 */
export function parseDatePoint(text: string, tz: string, now: Date, edge: 'start' | 'end'): DateTime {
  if (typeof text !== 'string') throw badDate(String(text), 'expected a string');
  const s = text.trim().toLowerCase();
  const current = DateTime.fromJSDate(now, { zone: tz });
  const day = (d: DateTime) => (edge === 'start' ? d.startOf('day') : d.endOf('day'));
  if (s === 'now') return current;
  if (s === 'today') return day(current);
  if (s === 'yesterday') return day(current.minus({ days: 1 }));
  if (s === 'tomorrow') return day(current.plus({ days: 1 }));
  const rel = new RegExp(`^(\\d+)\\s+${UNIT}\\s+(ago|from now)$`).exec(s);
  if (rel) {
    const shift = { [plural(rel[2])]: Number(rel[1]) };
    return rel[3] === 'ago' ? current.minus(shift) : current.plus(shift);
  }
  if (DATE_ONLY.test(s)) {
    const d = DateTime.fromISO(s, { zone: tz });
    if (!d.isValid) throw badDate(text);
    return day(d);
  }
  let d = DateTime.fromISO(text.trim(), { zone: tz });
  if (!d.isValid) d = DateTime.fromSQL(text.trim(), { zone: tz });
  if (!d.isValid) throw badDate(text);
  return d.setZone(tz);
}

/**
 * Resolve a dateRange (Cube semantics) to inclusive local bounds.
 *  - "today" / "yesterday" / "tomorrow"
 *  - "this|last|next <unit>": that whole unit (weeks start on Monday)
 *  - "last N <units>": the N complete units before the current one ("last 7 days" ends yesterday)
 *  - "next N <units>": the N complete units after the current one
 *  - "from X to Y": X and Y as in parseDatePoint
 *  - a single date: that day; [a, b]: from the start of a to the end of b
 */
const absoluteRanges = new Map<string, [LocalDateTime, LocalDateTime]>();
export function resolveDateRange(range: unknown, tz: string, now: Date): [LocalDateTime, LocalDateTime] {
  // [date, date] does not depend on the clock: resolve once per zone.
  const absolute = Array.isArray(range) && range.length === 2 && DATE_ONLY.test(String(range[0])) && DATE_ONLY.test(String(range[1]));
  const key = absolute ? `${tz}|${range[0]}|${range[1]}` : '';
  const hit = absolute ? absoluteRanges.get(key) : undefined;
  if (hit) return [hit[0], hit[1]];
  const out = resolveDateRangeUncached(range, tz, now);
  if (absolute && absoluteRanges.size < 10_000) absoluteRanges.set(key, out);
  return [out[0], out[1]];
}

function resolveDateRangeUncached(range: unknown, tz: string, now: Date): [LocalDateTime, LocalDateTime] {
  const [from, to] = resolveRangeBounds(range, tz, now);
  if (from > to) {
    throw new UserError('BAD_USER_INPUT', `invalid dateRange: start ${toLocal(from)} is after end ${toLocal(to)}`);
  }
  return [toLocal(from), toLocal(to)];
}

function resolveRangeBounds(range: unknown, tz: string, now: Date): [DateTime, DateTime] {
  if (Array.isArray(range)) {
    if (range.length !== 2 || !range.every((v) => typeof v === 'string')) {
      throw new UserError('BAD_USER_INPUT', 'invalid dateRange: expected [from, to] with two date strings');
    }
    return [parseDatePoint(range[0], tz, now, 'start'), parseDatePoint(range[1], tz, now, 'end')];
  }
  if (typeof range !== 'string' || range.trim() === '') {
    throw new UserError('BAD_USER_INPUT', 'invalid dateRange: expected a string or [from, to]');
  }
  const s = range.trim().toLowerCase().replace(/\s+/g, ' ');
  const current = DateTime.fromJSDate(now, { zone: tz });
  const unitOf = (u: string) => u as IntervalUnit;
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^(this|last|next) ${UNIT}$`).exec(s))) {
    const unit = unitOf(m[2]);
    const base = m[1] === 'this' ? current : m[1] === 'last' ? current.minus({ [plural(unit)]: 1 }) : current.plus({ [plural(unit)]: 1 });
    return [base.startOf(unit), base.endOf(unit)];
  }
  if ((m = new RegExp(`^(last|next) (\\d+) ${UNIT}$`).exec(s))) {
    const n = Number(m[2]);
    const unit = unitOf(m[3]);
    if (n < 1) throw new UserError('BAD_USER_INPUT', `invalid dateRange "${range}": the count must be at least 1`);
    const start = current.startOf(unit);
    return m[1] === 'last'
      ? [start.minus({ [plural(unit)]: n }), start.minus({ milliseconds: 1 })]
      : [start.plus({ [plural(unit)]: 1 }), start.plus({ [plural(unit)]: n + 1 }).minus({ milliseconds: 1 })];
  }
  if ((m = /^from (.+) to (.+)$/.exec(s))) {
    return [parseDatePoint(m[1], tz, now, 'start'), parseDatePoint(m[2], tz, now, 'end')];
  }
  try {
    const single = range.trim();
    return [parseDatePoint(single, tz, now, 'start'), parseDatePoint(single, tz, now, 'end')];
  } catch {
    throw new UserError(
      'BAD_USER_INPUT',
      `invalid dateRange "${range}": use e.g. "last 7 days", "this month", "from 2024-01-01 to now" or ["2024-01-01", "2024-01-31"]`,
    );
  }
}

/** A bucket of a time series: [start, end] inclusive, local. */
export interface Bucket {
  readonly start: DateTime;
  readonly end: DateTime;
}

export const MAX_BUCKETS = 10_000;

/** The periods of `granularity` covering [from, to] (local bounds in zone tz). */
export function timeBuckets(from: LocalDateTime, to: LocalDateTime, granularity: Granularity, tz: string): Bucket[] {
  const first = fromLocal(from, tz).startOf(granularity);
  const last = fromLocal(to, tz);
  if (last.diff(first, granularity).as(granularity) >= MAX_BUCKETS) {
    throw new UserError('BAD_USER_INPUT', `the dateRange has more than ${MAX_BUCKETS} ${granularity} periods; use a coarser granularity`);
  }
  const out: Bucket[] = [];
  for (let i = 0; ; i++) {
    const start = first.plus({ [plural(granularity)]: i });
    if (start > last) break;
    out.push({ start, end: first.plus({ [plural(granularity)]: i + 1 }).minus({ milliseconds: 1 }) });
  }
  return out;
}

export function shift(dt: DateTime, interval: Interval, sign: 1 | -1): DateTime {
  return dt.plus({ [plural(interval.unit)]: sign * interval.amount });
}
