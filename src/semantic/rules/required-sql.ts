/**
 * SQL that must be present: measures (except count), dimensions (sql or case, not both),
 * segments, joins, measure filters and case whens. Also which measure types may carry
 * filters or a rolling window.
 */
import type { ModelProblem } from '../../errors.js';
import type { RawObject } from '../raw.js';
import { forEachMember, type Rule } from '../rule-context.js';
import { sqlText } from '../walk.js';

const AGGREGATING = new Set(['count', 'count_distinct', 'count_distinct_approx', 'sum', 'avg', 'min', 'max']);

function requireSql(obj: RawObject, label: string, out: ModelProblem[]): void {
  const sql = sqlText(obj, 'sql');
  if (!obj.has('sql') || obj.get('sql')!.value === null) out.push({ file: obj.file, line: obj.line, message: `${label} has no sql` });
  else if (sql !== undefined && sql.trim() === '') out.push({ file: obj.file, line: obj.lineOf('sql'), message: `${label} has empty sql` });
}

export const requiredSql: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  forEachMember(ctx, (_cube, section, m, label) => {
    if (section === 'measures') {
      const type = m.str('type');
      if (type !== 'count' || m.has('sql')) requireSql(m, label, out);
      for (const f of m.list('filters')) requireSql(f, `filter of ${label}`, out);
      if (type !== undefined && !AGGREGATING.has(type)) {
        if (m.has('filters'))
          out.push({ file: m.file, line: m.get('filters')!.keyLine, message: `filters need an aggregating measure type, but ${label} is of type ${type}` });
        if (m.has('rolling_window')) {
          out.push({
            file: m.file,
            line: m.get('rolling_window')!.keyLine,
            message: `rolling_window needs an aggregating measure type, but ${label} is of type ${type}`,
          });
        }
      }
    } else if (section === 'dimensions') {
      const caseObj = m.map('case');
      if (caseObj && m.has('sql')) {
        out.push({ file: m.file, line: m.get('sql')!.keyLine, message: `${label} declares both sql and case; use one` });
      } else if (!caseObj) {
        requireSql(m, label, out);
      }
      if (caseObj) {
        const whens = caseObj.list('when');
        if (whens.length === 0) out.push({ file: caseObj.file, line: caseObj.line, message: `case of ${label} needs at least one "when"` });
        for (const w of whens) {
          requireSql(w, `case when of ${label}`, out);
          if (!w.has('label')) out.push({ file: w.file, line: w.line, message: `case when of ${label} has no label` });
        }
        const e = caseObj.map('else');
        if (e && !e.has('label')) out.push({ file: e.file, line: e.line, message: `case else of ${label} has no label` });
      }
    } else {
      requireSql(m, label, out);
    }
  });
  for (const cube of ctx.rawCubes) {
    for (const j of cube.list('joins')) requireSql(j, `join "${cube.str('name') ?? '?'}" -> "${j.str('name') ?? '?'}"`, out);
  }
  return out;
};
