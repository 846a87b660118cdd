/**
 * The SELECT that computes a rollup's rows from its cube's table: one row per tenant, dimension
 * values, segment flags and time bucket, one column per leaf. Used three ways by rollups/: to learn
 * the column types (DESCRIBE), to backfill every tenant, and to refresh one tenant's buckets (the
 * tenant and the buckets are parameters; model text is trusted and printed as written).
 *
 * Time buckets are Dates: `toDate(x)` of a Date column is the column itself, so a day rollup of a
 * Date column holds the very values the cube has (exact in every time zone); a DateTime column is
 * bucketed in UTC (`toDate(x, 'UTC')`), so only UTC queries aligned to its buckets may use it.
 */
import { invariant } from '../../errors.js';
import { clickhouseDialect } from '../clickhouse/dialect.js';
import type { SqlStatement } from '../compiled.js';
import { aggregateOf } from '../measures.js';
import type { Expr } from '../plan-tree.js';
import { printFragments } from '../printer.js';
import { renderDimension, renderMeasureFilters, renderSegment, renderTemplate, type RenderScope } from '../render.js';
import type { RollupShape } from './shape.js';

/** The rollup table's tenant column, whatever the cube calls its own. */
export const ROLLUP_TENANT_COLUMN = 'tenant_id';

const START_OF = { day: '', week: 'toMonday', month: 'toStartOfMonth', quarter: 'toStartOfQuarter', year: 'toStartOfYear' } as const;

export interface RollupSelectOptions {
  /** The time dimension's SQL yields a Date (not a DateTime): bucket without a zone. */
  readonly timeIsDate: boolean;
  /** Only this tenant's rows (bound as {tenant:String}). */
  readonly tenantId?: string;
  /** Only these buckets ('YYYY-MM-DD', bound as {buckets:Array(Date)}); needs tenantId. */
  readonly buckets?: readonly string[];
}

function print(e: Expr): string {
  return printFragments([{ expr: e }], clickhouseDialect).sql;
}

/** The bucket expression of the rollup's time dimension (a Date). */
export function bucketSql(shape: RollupShape, timeIsDate: boolean): string | undefined {
  if (!shape.time) return undefined;
  const scope = scopeOf(shape);
  const source = print(renderDimension(shape.time.dimension, scope));
  const day = timeIsDate ? `toDate(${source})` : `toDate(${source}, 'UTC')`;
  const fn = START_OF[shape.time.granularity];
  return fn ? `${fn}(${day})` : day;
}

/** The time dimension's own SQL over the cube's table (what DESCRIBE types to decide timeIsDate). */
export function timeSourceSql(shape: RollupShape): string | undefined {
  return shape.time ? print(renderDimension(shape.time.dimension, scopeOf(shape))) : undefined;
}

function scopeOf(shape: RollupShape): RenderScope {
  const cube = shape.cube;
  return {
    model: { cubes: { [cube.name]: cube }, views: {} },
    alias: (c) => {
      invariant(c === cube.name, `rollup ${shape.pre.name} reads another cube (${c})`);
      return c;
    },
  };
}

function leafSql(leaf: RollupShape['leaves'][number], scope: RenderScope): string {
  const m = leaf.measure;
  if (leaf.kind !== 'uniqExact') return print(aggregateOf(m, scope));
  invariant(m.sql, `measure ${m.path} has no sql`);
  const filter = renderMeasureFilters(m, scope);
  const arg = print(renderTemplate(m.sql, scope));
  return filter ? `uniqExactStateIf(${arg}, ${print(filter)})` : `uniqExactState(${arg})`;
}

export function rollupSelect(shape: RollupShape, options: RollupSelectOptions): SqlStatement {
  const { cube } = shape;
  invariant(cube.sqlTable && cube.tenant.kind === 'column', `rollup ${shape.pre.name} needs a tenant-scoped sql_table cube`);
  const scope = scopeOf(shape);
  const q = clickhouseDialect.quoteIdentifier;
  const tenantCol = `${q(cube.name)}.${q(cube.tenant.column)}`;
  const keys: [string, string][] = [[tenantCol, ROLLUP_TENANT_COLUMN]];
  for (const d of shape.dimensions) keys.push([print(renderDimension(d.dimension, scope)), d.column]);
  const bucket = bucketSql(shape, options.timeIsDate);
  if (bucket && shape.time) keys.push([bucket, shape.time.column]);
  for (const s of shape.segments) keys.push([`CAST(${print(renderSegment(cube.segments[s.name], scope))} AS UInt8)`, s.column]);
  const values = shape.leaves.map((l) => [leafSql(l, scope), l.column] as const);
  const columns = [...keys, ...values].map(([sql, alias]) => `${sql} AS ${q(alias)}`).join(', ');
  const params: Record<string, unknown> = {};
  const where: string[] = [];
  if (options.tenantId !== undefined) {
    where.push(`${tenantCol} = {tenant:String}`);
    params.tenant = options.tenantId;
    if (options.buckets && bucket) {
      where.push(`${bucket} IN {buckets:Array(Date)}`);
      params.buckets = options.buckets;
    }
  }
  const sql =
    `SELECT ${columns} FROM ${cube.sqlTable} AS ${q(cube.name)}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` GROUP BY ${keys.map(([, alias]) => q(alias)).join(', ')}`;
  return { sql, params };
}
