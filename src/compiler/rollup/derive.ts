/**
 * A rollup recomputed from a finer rollup of the same cube instead of the cube's table: when its
 * dimensions and segments are among the finer one's, its leaves are too, and its time bucket is the
 * same or coarser than a day bucket. Every leaf combines exactly (sum / count -> sum, min, max,
 * uniqExact states -> uniqExactMergeState), so the coarse rows equal what the facts would give;
 * the finer rollup holds far fewer rows than the facts, so a refresh reads less.
 */
import type { SqlStatement } from '../compiled.js';
import { ROLLUP_TENANT_COLUMN } from './build-sql.js';
import { leafSignature, type RollupLeaf, type RollupShape } from './shape.js';

const START_OF = { day: '', week: 'toMonday', month: 'toStartOfMonth', quarter: 'toStartOfQuarter', year: 'toStartOfYear' } as const;
const COMBINE: Record<RollupLeaf['kind'], string> = { sum: 'sum', count: 'sum', min: 'min', max: 'max', uniqExact: 'uniqExactMergeState' };

export interface DerivableRollup {
  readonly shape: RollupShape;
  readonly timeIsDate: boolean;
}

/** The columns of `fine` that `coarse` reads, or undefined when `coarse` cannot be computed from `fine`. */
function mapping(coarse: DerivableRollup, fine: DerivableRollup) {
  const c = coarse.shape;
  const f = fine.shape;
  if (c.cube.name !== f.cube.name || coarse.timeIsDate !== fine.timeIsDate) return undefined;
  const dims = c.dimensions.map((d) => f.dimensions.find((x) => x.dimension.name === d.dimension.name)?.column);
  const segs = c.segments.map((s) => f.segments.find((x) => x.name === s.name)?.column);
  const leaves = c.leaves.map((l) => f.leaves.find((x) => x.kind === l.kind && leafSignature(x.measure) === leafSignature(l.measure))?.column);
  if ([...dims, ...segs, ...leaves].some((x) => x === undefined)) return undefined;
  if (c.time) {
    if (!f.time || f.time.dimension.name !== c.time.dimension.name) return undefined;
    if (f.time.granularity !== 'day' && f.time.granularity !== c.time.granularity) return undefined;
  }
  return { dims: dims as string[], segs: segs as string[], leaves: leaves as string[], time: c.time && f.time ? f.time.column : undefined };
}

export function derivable(coarse: DerivableRollup, fine: DerivableRollup): boolean {
  return mapping(coarse, fine) !== undefined;
}

const q = (name: string) => `\`${name.replace(/`/g, '')}\``;

/**
 * The SELECT giving `coarse`'s rows (its column order, without _version/_deleted) for one tenant
 * from `fine`'s table: its live rows (FINAL, not deleted), only the given coarse buckets.
 */
export function derivedRollupSelect(
  coarse: DerivableRollup,
  fine: DerivableRollup & { readonly table: string },
  options: { readonly tenantId: string; readonly buckets?: readonly string[] },
): SqlStatement {
  const m = mapping(coarse, fine);
  if (!m) throw new Error(`rollup ${coarse.shape.pre.name} cannot be computed from ${fine.shape.pre.name}`);
  const c = coarse.shape;
  // The inner SELECT renames what it reads (_src_…): the outer aliases may reuse the fine
  // table's column names (a coarse `t_date` from the fine `t_date`) without an alias cycle.
  const inner: string[] = [`${q(ROLLUP_TENANT_COLUMN)} AS _src_tenant`];
  const keys: [string, string][] = [['_src_tenant', ROLLUP_TENANT_COLUMN]];
  m.dims.forEach((col, i) => {
    inner.push(`${q(col)} AS _src_d${i}`);
    keys.push([`_src_d${i}`, c.dimensions[i].column]);
  });
  let bucket: string | undefined;
  if (c.time && m.time) {
    inner.push(`${q(m.time)} AS _src_t`);
    const fn = START_OF[c.time.granularity];
    bucket = fn ? `${fn}(${q(m.time)})` : q(m.time);
    keys.push([fn ? `${fn}(_src_t)` : '_src_t', c.time.column]);
  }
  m.segs.forEach((col, i) => {
    inner.push(`${q(col)} AS _src_s${i}`);
    keys.push([`_src_s${i}`, c.segments[i].column]);
  });
  const values = m.leaves.map((col, i) => {
    inner.push(`${q(col)} AS _src_m${i}`);
    return [`${COMBINE[c.leaves[i].kind]}(_src_m${i})`, c.leaves[i].column] as const;
  });
  const where = [`${q(ROLLUP_TENANT_COLUMN)} = {tenant:String}`, '_deleted = 0'];
  const params: Record<string, unknown> = { tenant: options.tenantId };
  if (options.buckets && bucket) {
    where.push(`${bucket} IN {buckets:Array(Date)}`);
    params.buckets = options.buckets;
  }
  const columns = [...keys, ...values].map(([sql, alias]) => `${sql} AS ${q(alias)}`).join(', ');
  const sql =
    `SELECT ${columns} FROM (SELECT ${inner.join(', ')} FROM ${q(fine.table)} FINAL WHERE ${where.join(' AND ')})` +
    ` GROUP BY ${keys.map(([, alias]) => q(alias)).join(', ')}`;
  return { sql, params };
}

/** The coarse bucket ('YYYY-MM-DD') of a day, as the engine's toMonday / toStartOf… give it. */
export function bucketOfDay(granularity: keyof typeof START_OF, day: string): string {
  if (granularity === 'day') return day;
  const [y, mo, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (granularity === 'week') date.setUTCDate(d - ((date.getUTCDay() + 6) % 7));
  else if (granularity === 'month') date.setUTCDate(1);
  else if (granularity === 'quarter') date.setUTCMonth(Math.floor((mo - 1) / 3) * 3, 1);
  else date.setUTCMonth(0, 1);
  return date.toISOString().slice(0, 10);
}
