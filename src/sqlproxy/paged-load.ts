/**
 * No silent truncation: a statement without LIMIT (Tableau extracts, pandas, DBeaver export,
 * `TABLE x`) or with a LIMIT above the query service's per-query cap (Metabase's LIMIT 1048575)
 * is read page by page through the query service, in a total order so that pages never overlap or
 * skip. Past `maxRows` the statement fails with an error naming the maximum; it never returns a
 * partial result that looks complete.
 */
import type { CellValue } from '../query/types.js';
import type { OrderDirection, SemanticQuery } from '../semantic/query.js';
import { SqlError, SQLSTATE } from './sql-error.js';

export interface RowLimits {
  /** Most rows one statement may return (SQL_PROXY_MAX_ROWS). */
  readonly maxRows: number;
  /** Rows per query-service load (MAX_ROW_LIMIT, the cap every door shares). */
  readonly pageRows: number;
  /** Most rows the parts of one composed statement may hold (compose/compose.ts MAX_COMPOSED_ROWS when unset). */
  readonly composedRows?: number;
}

export const DEFAULT_ROW_LIMITS: RowLimits = { maxRows: 1_000_000, pageRows: 5_000 };

type Row = Readonly<Record<string, CellValue>>;

export async function loadAllRows(query: SemanticQuery, limits: RowLimits, load: (q: SemanticQuery) => Promise<readonly Row[]>): Promise<readonly Row[]> {
  const start = query.offset ?? 0;
  // One row past the maximum tells an oversized result from one that fits exactly.
  const want = Math.min(query.limit ?? Number.POSITIVE_INFINITY, limits.maxRows + 1);
  if (want <= limits.pageRows) return checked(await load({ ...query, limit: want }), query, limits);
  const ordered: SemanticQuery = { ...query, order: totalOrder(query) };
  const rows: Row[] = [];
  for (;;) {
    const size = Math.min(limits.pageRows, want - rows.length);
    const page = await load({ ...ordered, limit: size, offset: start + rows.length });
    for (const r of page) rows.push(r);
    if (page.length < size || rows.length >= want) break;
  }
  return checked(rows, query, limits);
}

function checked(rows: readonly Row[], query: SemanticQuery, limits: RowLimits): readonly Row[] {
  if (rows.length <= limits.maxRows) return rows;
  throw new SqlError(
    SQLSTATE.TOO_MANY_ROWS,
    `the result has more than ${limits.maxRows} rows, the maximum one statement may return through Strata's SQL interface (SQL_PROXY_MAX_ROWS)`,
    undefined,
    'ERROR',
    query.limit === undefined ? 'Add a LIMIT, filters or a coarser grouping.' : 'Lower the LIMIT, or add filters.',
  );
}

/** The caller's order, then every grouping column: rows are unique per grouping, so pages are stable. */
function totalOrder(query: SemanticQuery): [string, OrderDirection][] {
  const order: [string, OrderDirection][] = (Array.isArray(query.order) ? query.order : Object.entries(query.order ?? {})).map(([k, d]) => [k, d]);
  const seen = new Set(order.map(([k]) => k));
  for (const key of [...(query.dimensions ?? []), ...(query.timeDimensions ?? []).filter((t) => t.granularity).map((t) => t.dimension)]) {
    if (!seen.has(key)) {
      seen.add(key);
      order.push([key, 'asc']);
    }
  }
  return order;
}
