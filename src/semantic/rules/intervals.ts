/**
 * Interval strings: refresh_key.every, rolling_window trailing/leading/offset, and custom
 * granularity interval/offset.
 */
import type { ModelProblem } from '../../errors.js';
import { INTERVAL_SYNTAX, parseInterval } from '../interval.js';
import type { RawObject } from '../raw.js';
import { forEachMember, type Rule } from '../rule-context.js';

function checkInterval(obj: RawObject, key: string, label: string, out: ModelProblem[], opts: { unbounded?: boolean; positive?: boolean } = {}): void {
  const v = obj.str(key);
  if (v === undefined) return;
  if (opts.unbounded && v === 'unbounded') return;
  const i = parseInterval(v);
  if (!i) {
    out.push({
      file: obj.file,
      line: obj.lineOf(key),
      message: `invalid interval "${v}" for ${key} of ${label}: use ${INTERVAL_SYNTAX}${opts.unbounded ? ' or "unbounded"' : ''}`,
    });
  } else if (opts.positive && i.amount <= 0) {
    out.push({ file: obj.file, line: obj.lineOf(key), message: `${key} of ${label} must be a positive interval, got "${v}"` });
  }
}

export const intervals: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) {
    const rk = cube.map('refresh_key');
    if (!rk) continue;
    const label = `cube "${cube.str('name') ?? '?'}"`;
    const every = rk.str('every');
    if (every !== undefined && every.trim().split(/\s+/).length >= 5) {
      out.push({ file: rk.file, line: rk.lineOf('every'), message: `refresh_key.every of ${label} is a cron expression; Strata supports ${INTERVAL_SYNTAX}` });
    } else {
      checkInterval(rk, 'every', `refresh_key of ${label}`, out, { positive: true });
    }
    if (!rk.has('every') && !rk.has('sql')) {
      out.push({ file: rk.file, line: rk.line, message: `refresh_key of ${label} needs "every" or "sql"` });
    }
  }
  forEachMember(ctx, (_cube, section, m, label) => {
    if (section === 'measures') {
      const rw = m.map('rolling_window');
      if (!rw) return;
      checkInterval(rw, 'trailing', `rolling_window of ${label}`, out, { unbounded: true });
      checkInterval(rw, 'leading', `rolling_window of ${label}`, out, { unbounded: true });
      const offset = rw.str('offset');
      if (offset !== undefined && offset !== 'start' && offset !== 'end') {
        out.push({ file: rw.file, line: rw.lineOf('offset'), message: `invalid offset "${offset}" for rolling_window of ${label} (start or end)` });
      }
      if (!rw.has('trailing') && !rw.has('leading')) {
        out.push({ file: rw.file, line: rw.line, message: `rolling_window of ${label} needs "trailing" and/or "leading"` });
      }
    }
    if (section === 'dimensions') {
      for (const g of m.list('granularities')) {
        const gl = `granularity "${g.str('name') ?? '?'}" of ${label}`;
        if (!g.has('interval')) out.push({ file: g.file, line: g.line, message: `${gl} has no interval` });
        checkInterval(g, 'interval', gl, out, { positive: true });
        checkInterval(g, 'offset', gl, out);
        if (g.has('offset') && g.has('origin')) out.push({ file: g.file, line: g.lineOf('origin'), message: `${gl}: use either offset or origin, not both` });
        const origin = g.str('origin');
        if (origin !== undefined && Number.isNaN(Date.parse(origin))) {
          out.push({
            file: g.file,
            line: g.lineOf('origin'),
            message: `invalid origin "${origin}" for ${gl}: use an ISO date-time such as "2024-01-01T00:00:00"`,
          });
        }
      }
    }
  });
  return out;
};
