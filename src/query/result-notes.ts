/**
 * Notes on a result, and the one shape of an empty answer. An answer is empty when no row of the
 * tenant's data matches: then it has no rows (`rows: []`), never a row of zeros or a row per day of
 * nulls, and a note says why when Strata can tell:
 *   RANGE_OUTSIDE_DATA   the date range lies wholly before or after the cube's data for the tenant
 *                        (details: the data's first and last date)
 *   RANGE_PARTLY_OUTSIDE the range runs past the data's last date (or starts before its first)
 *   VALUE_NOT_PRESENT    an equals filter names a value the tenant does not have (the values it has)
 *   ROW_LIMIT_REACHED    as many rows as the limit: there may be more
 * Checks run only for empty-looking results (no rows, or no non-zero measure), so a normal answer
 * costs nothing; the facts they read are cached per tenant (catalog-facts.ts).
 */
import type { Model } from '../semantic/model.js';
import type { NormalizedFilter } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import type { CatalogFacts } from './catalog-facts.js';
import type { QueryResult, RequestContext } from './types.js';

export type NoteCode = 'RANGE_OUTSIDE_DATA' | 'RANGE_PARTLY_OUTSIDE' | 'VALUE_NOT_PRESENT' | 'ROW_LIMIT_REACHED';

export interface ResultNote {
  readonly code: NoteCode;
  readonly message: string;
  /** The member the note is about (a time dimension, a filtered dimension). */
  readonly member?: string;
  readonly firstDate?: string;
  readonly lastDate?: string;
  /** VALUE_NOT_PRESENT: the values the tenant has (when few enough to list). */
  readonly values?: readonly string[];
}

export interface NotedResult {
  readonly result: QueryResult;
  readonly notes: readonly ResultNote[];
  /** No row matched: `result.rows` is []. */
  readonly empty: boolean;
}

/** True when no row carries data: no rows, or every measure null or 0 in every row. */
function looksEmpty(result: QueryResult): boolean {
  if (result.rows.length === 0) return true;
  const measures = result.query.measures;
  if (measures.length === 0) return false;
  return result.rows.every((r) => measures.every((m) => r[m] === null || r[m] === 0 || r[m] === undefined));
}

function equalsFilters(filters: readonly NormalizedFilter[], out: { member: string; values: string[] }[] = []) {
  for (const f of filters) {
    if (f.kind === 'and') equalsFilters(f.filters, out);
    else if (f.kind === 'member' && f.operator === 'equals') out.push({ member: f.member, values: f.values.filter((v) => v !== null).map(String) });
  }
  return out;
}

export async function noteResult(model: Model, facts: CatalogFacts, ctx: RequestContext, result: QueryResult): Promise<NotedResult> {
  const notes: ResultNote[] = [];
  const q = result.query;
  if (q.limit > 0 && result.rows.length >= q.limit) {
    notes.push({ code: 'ROW_LIMIT_REACHED', message: `the row limit (${q.limit}) was reached: there may be more rows; raise "limit" or add filters` });
  }
  if (!looksEmpty(result)) return { result, notes, empty: false };
  let outside = false;
  for (const td of q.timeDimensions) {
    if (!td.dateRange) continue;
    const path = resolveMember(model, td.dimension).member.path;
    const cov = await facts.coverage(ctx, path.split('.')[0]).catch(() => undefined);
    if (!cov || cov.timeDimension !== path) continue;
    const [from, to] = [td.dateRange[0].slice(0, 10), td.dateRange[1].slice(0, 10)];
    const dates = { firstDate: cov.firstDate ?? undefined, lastDate: cov.lastDate ?? undefined };
    if (cov.lastDate === null || cov.firstDate === null) {
      outside = true;
      notes.push({ code: 'RANGE_OUTSIDE_DATA', member: td.dimension, message: `${cov.cube} has no data for this tenant`, ...dates });
    } else if (from > cov.lastDate.slice(0, 10)) {
      outside = true;
      notes.push({ code: 'RANGE_OUTSIDE_DATA', member: td.dimension, message: `the range starts after this cube's last data (${cov.lastDate})`, ...dates });
    } else if (to < cov.firstDate.slice(0, 10)) {
      outside = true;
      notes.push({ code: 'RANGE_OUTSIDE_DATA', member: td.dimension, message: `the range ends before this cube's first data (${cov.firstDate})`, ...dates });
    } else if (to > cov.lastDate.slice(0, 10) || from < cov.firstDate.slice(0, 10)) {
      notes.push({ code: 'RANGE_PARTLY_OUTSIDE', member: td.dimension, message: `the data covers ${cov.firstDate} .. ${cov.lastDate} only`, ...dates });
    }
  }
  for (const f of equalsFilters(q.filters)) {
    const member = resolveMember(model, f.member).member;
    if (member.kind !== 'dimension' || member.type !== 'string') continue;
    const sample = await facts.sampleValues(ctx, f.member).catch(() => undefined);
    if (!sample?.complete) continue;
    const missing = f.values.filter((v) => !sample.values.includes(v));
    if (missing.length === f.values.length && missing.length > 0) {
      notes.push({
        code: 'VALUE_NOT_PRESENT',
        member: f.member,
        message: `${f.member} has no value ${missing.map((v) => JSON.stringify(v)).join(', ')} for this tenant (it has: ${sample.values.join(', ') || 'none'})`,
        values: sample.values,
      });
    }
  }
  // One shape: no matching row means no rows (a measures-only aggregate over nothing gives zeros).
  const empty = result.rows.length === 0 || outside || notes.some((n) => n.code === 'VALUE_NOT_PRESENT');
  return { result: empty && result.rows.length ? { ...result, rows: [] } : result, notes, empty };
}
