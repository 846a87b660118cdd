/**
 * Time bounds the engine compares fastest. A filter value is a local wall time with milliseconds
 * ("2026-08-01T00:00:00.000"); most are whole seconds, and an inclusive end of a range is the last
 * millisecond (".999"). A whole-second bound is compared as a DateTime (seconds) rather than a
 * DateTime64(3): on the benchmark warehouse 5–9 % less engine time per widget (bench/MEASUREMENTS.md).
 * `x <= …59.999` becomes `x < next second` — exact for columns of millisecond precision or coarser,
 * and the instant right after the bound — unless that wall time does not exist in the zone (a DST gap
 * at midnight), where the bound keeps its milliseconds.
 */
import { DateTime } from 'luxon';
import { binary, type Expr, type ParamBag } from './plan-tree.js';

const LOCAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})\.(\d{3})$/;

/** The zone of a `{tz:String}` parameter expression, when the compiler holds its value. */
export function zoneOf(tz: Expr): string | undefined {
  return tz.kind === 'param' && typeof tz.value === 'string' ? tz.value : undefined;
}

/** A bound as a parameter in the query zone: whole seconds as DateTime, anything else as DateTime64(3). */
export function timeBound(params: ParamBag, tz: Expr, value: string): Expr {
  const m = LOCAL.exec(value);
  if (m && m[3] === '000') return { kind: 'inZone', arg: params.add(`${m[1]} ${m[2]}`, 'String'), tz, seconds: true };
  return { kind: 'inZone', arg: params.add(value, 'String'), tz };
}

/** `x <= value`, as `x < next second` when value is a second's last millisecond (and that second exists in the zone). */
export function atOrBefore(params: ParamBag, tz: Expr, x: Expr, value: string): Expr {
  const zone = zoneOf(tz);
  const next = zone && value.endsWith('.999') ? nextSecond(value, zone) : undefined;
  return next ? binary('<', x, timeBound(params, tz, next)) : binary('<=', x, timeBound(params, tz, value));
}

/**
 * Queries repeat the same few bounds (day and month edges), and luxon's zone arithmetic cost ~60 µs
 * per range end in a profile of the bench's uncached load: the answers are remembered (bounded).
 */
const nextSeconds = new Map<string, string | null>();
const MAX_REMEMBERED = 10_000;

/** The second after a local `…:59.999` wall time, or undefined when that wall time does not exist in the zone. */
function nextSecond(value: string, zone: string): string | undefined {
  const key = `${zone}\u0000${value}`;
  let next = nextSeconds.get(key);
  if (next === undefined) {
    next = computeNextSecond(value, zone) ?? null;
    if (nextSeconds.size >= MAX_REMEMBERED) nextSeconds.clear();
    nextSeconds.set(key, next);
  }
  return next ?? undefined;
}

function computeNextSecond(value: string, zone: string): string | undefined {
  if (LOCAL.exec(value)?.[3] !== '999') return undefined;
  const next = DateTime.fromISO(value, { zone: 'UTC' }).plus({ milliseconds: 1 }).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS");
  const local = DateTime.fromISO(next, { zone });
  // A wall time in a DST gap is moved by the zone rules: keep the exact millisecond bound instead.
  return local.isValid && local.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") === next ? next : undefined;
}
