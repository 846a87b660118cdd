/**
 * The coverage statement of a cube for one tenant: first and last value of a time dimension, the
 * row count, and (when the model names it) the latest ingestion time. Tenant-scoped like every
 * statement (scopedCubeSource); the time dimension's SQL is model text, never caller text.
 */
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import { clickhouseDialect } from './clickhouse/dialect.js';
import type { SqlStatement } from './compiled.js';
import { scopedCubeSource, tenantParam } from './passes/tenant-scope.js';
import { ident, raw, type Expr, type FromItem } from './plan-tree.js';
import { printFragments } from './printer.js';
import { renderTemplate } from './render.js';

export interface CoverageOptions {
  /** A time dimension of the cube (its name inside the cube); absent: rows (and ingestion) only. */
  readonly timeDimension?: string;
  /** A column of the cube's table holding each row's ingestion time (cube meta `ingested_at_column`). */
  readonly ingestedAtColumn?: string;
}

/** Columns: `first`, `last` (time dimension, or null), `rows`, `ingested` (or null). */
export function compileCoverage(model: Model, cubeName: string, tenantId: string, options: CoverageOptions = {}): SqlStatement {
  if (!Object.hasOwn(model.cubes, cubeName)) throw new UserError('NOT_FOUND', `unknown cube "${cubeName}"`);
  const cube = model.cubes[cubeName];
  const scope = { model, alias: (c: string) => c };
  const td = options.timeDimension ? cube.dimensions[options.timeDimension] : undefined;
  if (options.timeDimension && (td?.type !== 'time' || !td.sql)) {
    throw new UserError('BAD_USER_INPUT', `"${cubeName}.${options.timeDimension}" is not a time dimension`);
  }
  const time = td?.sql ? renderTemplate(td.sql, scope) : undefined;
  const parts: ({ expr: Expr } | { from: FromItem })[] = [{ expr: raw('SELECT ') }];
  if (time)
    parts.push({ expr: raw('toString(min(') }, { expr: time }, { expr: raw(')) AS first, toString(max(') }, { expr: time }, { expr: raw(')) AS last') });
  else parts.push({ expr: raw('NULL AS first, NULL AS last') });
  parts.push({ expr: raw(', count() AS rows') });
  if (options.ingestedAtColumn)
    parts.push(
      { expr: raw(', toString(max(') },
      { expr: ident(cubeName) },
      { expr: raw('.') },
      { expr: ident(options.ingestedAtColumn) },
      { expr: raw(')) AS ingested') },
    );
  else parts.push({ expr: raw(', NULL AS ingested') });
  parts.push({ expr: raw(' FROM ') }, { from: scopedCubeSource(model, cubeName, cubeName, tenantParam(tenantId)) });
  return printFragments(parts, clickhouseDialect);
}
