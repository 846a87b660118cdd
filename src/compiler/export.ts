/**
 * The statement of an export: the query's own statement (tenant-scoped, limited) with its columns
 * renamed to the caller's member keys ("ad_performance.clicks", "ad_performance.date.day"), so a
 * file the engine writes (CSV header, Parquet schema, NDJSON keys) names what was asked for; plus
 * the statement counting the rows without limit (the export cap is checked before anything runs).
 */
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import { clickhouseDialect } from './clickhouse/dialect.js';
import { compileQuery } from './compile.js';
import type { CompiledQuery, SqlStatement } from './compiled.js';

export interface CompiledExport extends CompiledQuery {
  /** Counts the rows the query has without limit and offset. */
  readonly count: SqlStatement;
}

export function compileExport(model: Model, query: NormalizedQuery, tenantId: string): CompiledExport {
  const compiled = compileQuery(model, { ...query, total: true }, tenantId);
  const q = clickhouseDialect.quoteIdentifier;
  const columns = compiled.columns.map((c) => `${q(c.alias)} AS ${q(c.key)}`).join(', ');
  const { total, ...main } = compiled;
  return { ...main, sql: `SELECT ${columns} FROM (${compiled.sql}) AS __export`, count: total as SqlStatement };
}
