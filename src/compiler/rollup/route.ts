/**
 * Routing a query to a rollup (Cube's matching rules, applied so the answer is exactly the fact
 * table's): every member the query reads belongs to one cube and is stored by the rollup — measures
 * it serves (additive leaves, and number measures over them), dimensions and segments it lists, the
 * time dimension at a granularity the rollup's buckets add up to, filters on those members only.
 * The smallest matching rollup wins (fewest dimensions, then coarsest buckets). Otherwise the query
 * reads the fact table.
 *
 * How it is answered: the cube is swapped for a copy whose table is the rollup's (tenant column,
 * dimension / segment / leaf columns), and the same compiler plans the same query over it. So
 * aliases, parameters, the tenant pass and every query shape stay the same code path.
 */
import type { Cube, Dimension, Join, Measure, Model, PreAggregation, Segment, SqlTemplate } from '../../semantic/model.js';
import type { Granularity, NormalizedFilter, NormalizedQuery } from '../../semantic/query.js';
import { resolveMember } from '../../semantic/resolve.js';
import { cubesReferenced } from '../render.js';
import { leafSignature, rollupShape, type RollupShape } from './shape.js';
import { ROLLUP_TENANT_COLUMN } from './build-sql.js';

/** A rollup whose table is built and maintained (rollups/ decides; the compiler only reads this). */
export interface ReadyRollup {
  readonly table: string;
  /** Its time dimension's SQL is a Date: a day rollup then holds the cube's own values. */
  readonly timeIsDate: boolean;
}

/** Ready rollups by "cube.name". */
export type RollupAvailability = ReadonlyMap<string, ReadyRollup>;

export interface UsedRollup {
  readonly cube: string;
  readonly name: string;
  readonly table: string;
}

const ORDER: readonly Granularity[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

/** Query granularities a rollup's buckets add up to exactly. */
function coarserOrEqual(rollup: NonNullable<PreAggregation['granularity']>, query: Granularity): boolean {
  if (rollup === 'week') return query === 'week';
  if (query === 'week') return rollup === 'day';
  return ORDER.indexOf(query) >= ORDER.indexOf(rollup);
}

const shapes = new WeakMap<Model, Map<string, RollupShape>>();

export function shapeOf(model: Model, pre: PreAggregation): RollupShape {
  let byName = shapes.get(model);
  if (!byName) shapes.set(model, (byName = new Map()));
  const key = `${pre.cube}.${pre.name}`;
  let shape = byName.get(key);
  if (!shape) byName.set(key, (shape = rollupShape(model, pre)));
  return shape;
}

function memberPaths(filters: readonly NormalizedFilter[], out: { path: string; operator: string; values: readonly unknown[] }[] = []) {
  for (const f of filters) {
    if (f.kind === 'member') out.push({ path: f.member, operator: f.operator, values: f.values });
    else memberPaths(f.filters, out);
  }
  return out;
}

/** Whole buckets of the rollup: from the first instant of one to the last millisecond of another. */
function aligned(range: readonly [string, string], g: NonNullable<PreAggregation['granularity']>): boolean {
  const [from, to] = range;
  if (!from.endsWith('T00:00:00.000') || !to.endsWith('T23:59:59.999')) return false;
  const start = new Date(`${from.slice(0, 10)}T00:00:00Z`);
  const next = new Date(`${to.slice(0, 10)}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const isStart = (d: Date) => {
    if (g === 'day') return true;
    if (g === 'week') return d.getUTCDay() === 1;
    if (d.getUTCDate() !== 1) return false;
    if (g === 'month') return true;
    if (g === 'quarter') return d.getUTCMonth() % 3 === 0;
    return d.getUTCMonth() === 0;
  };
  return isStart(start) && isStart(next);
}

/** Can this rollup answer the query exactly? */
function matches(model: Model, query: NormalizedQuery, shape: RollupShape, ready: ReadyRollup): boolean {
  const { pre } = shape;
  const cube = shape.cube;
  const raw = ready.timeIsDate && pre.granularity === 'day'; // the rollup holds the cube's own time values
  const zoneOk = ready.timeIsDate || query.timezone === 'UTC';
  const isTime = (name: string) => shape.time !== undefined && name === shape.time.dimension.name;
  const dims = new Set(pre.dimensions);
  const lookups = lookupJoins(shape);
  // Members of the cube itself; a joined lookup's dimensions are checked on their own below.
  const resolve = (path: string) => {
    const r = resolveMember(model, path);
    if (r.member.cube !== cube.name) return undefined;
    if (r.view && r.view.viewMember.joinPath.length !== 1) return undefined;
    return r.member;
  };
  /** A dimension of a many_to_one lookup the rollup can still join (its keys are stored). */
  const lookupDimension = (path: string) => {
    const r = resolveMember(model, path);
    if (r.member.kind !== 'dimension' || !lookups.has(r.member.cube)) return false;
    if (r.view && (r.view.viewMember.joinPath.length !== 2 || r.view.viewMember.joinPath[0] !== cube.name)) return false;
    return [...cubesReferenced(model, r.member)].every((c) => c === r.member.cube);
  };
  for (const path of query.measures) {
    const m = resolve(path);
    if (m?.kind !== 'measure' || !shape.served.has(m.name)) return false;
    if (m.rollingWindow && !raw) return false;
  }
  for (const path of query.dimensions) {
    if (lookupDimension(path)) continue;
    const d = resolve(path);
    if (d?.kind !== 'dimension') return false;
    if (!dims.has(d.name) && !(isTime(d.name) && raw)) return false;
  }
  for (const path of query.segments) {
    const s = resolve(path);
    if (s?.kind !== 'segment' || !pre.segments.includes(s.name)) return false;
  }
  for (const td of query.timeDimensions) {
    const d = resolve(td.dimension);
    if (d?.kind !== 'dimension') return false;
    if (dims.has(d.name)) continue; // stored as a plain dimension: its own values
    if (!isTime(d.name) || !shape.time) return false;
    if (raw) continue;
    if (!zoneOk || td.granularity === undefined || !coarserOrEqual(shape.time.granularity, td.granularity)) return false;
    if (td.dateRange && !aligned(td.dateRange, shape.time.granularity)) return false;
  }
  for (const f of memberPaths(query.filters)) {
    if (lookupDimension(f.path)) continue;
    const m = resolve(f.path);
    if (!m) return false;
    if (m.kind === 'measure' && !shape.served.has(m.name)) return false;
    if (m.kind === 'segment') return false;
    if (m.kind === 'dimension' && !dims.has(m.name) && !(isTime(m.name) && raw)) return false;
  }
  return true;
}

/**
 * Joins the rollup table can still make: many_to_one / one_to_one to a lookup cube whose ON condition
 * reads only the tenant column and columns the rollup stores under their own names. Grouping the
 * cube's rows by those keys before the join gives the same sums as joining each row: the lookup's
 * attributes are a function of the keys.
 */
function lookupJoins(shape: RollupShape): Map<string, Join> {
  const cube = shape.cube;
  const stored = new Set(shape.dimensions.map((d) => d.column));
  if (cube.tenant.kind === 'column') stored.add(cube.tenant.column);
  const out = new Map<string, Join>();
  for (const join of Object.values(cube.joins)) {
    if (join.relationship === 'one_to_many') continue;
    const parts = join.sql.parts;
    const ok = parts.every((p, i) => {
      if (p.kind === 'member') return false;
      if (p.kind !== 'cube' || p.cube !== cube.name) return true;
      const next = parts[i + 1];
      const col = next?.kind === 'text' ? /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(next.text)?.[1] : undefined;
      return col !== undefined && stored.has(col);
    });
    if (ok) out.set(join.target, join);
  }
  return out;
}

/** The smallest ready rollup answering the query exactly, with the model to compile it against. */
export function routeToRollup(model: Model, query: NormalizedQuery, ready: RollupAvailability | undefined): { model: Model; used: UsedRollup } | undefined {
  if (!ready || ready.size === 0 || query.ungrouped || query.measures.length === 0) return undefined;
  let cubeName: string;
  try {
    cubeName = resolveMember(model, query.measures[0]).member.cube;
  } catch {
    return undefined;
  }
  const pres = model.cubes[cubeName]?.preAggregations ?? [];
  const candidates: { shape: RollupShape; ready: ReadyRollup }[] = [];
  for (const pre of pres) {
    const r = ready.get(`${pre.cube}.${pre.name}`);
    if (!r) continue;
    const shape = shapeOf(model, pre);
    try {
      if (matches(model, query, shape, r)) candidates.push({ shape, ready: r });
    } catch {
      // an unknown member: the compiler reports it on the fact table
    }
  }
  if (candidates.length === 0) return undefined;
  const size = (s: RollupShape) => s.dimensions.length + s.segments.length;
  const grain = (s: RollupShape) => (s.time ? ORDER.indexOf(s.time.granularity) : ORDER.length);
  candidates.sort((a, b) => size(a.shape) - size(b.shape) || grain(b.shape) - grain(a.shape));
  const best = candidates[0];
  return { model: swappedModel(model, best.shape, best.ready), used: { cube: cubeName, name: best.shape.pre.name, table: best.ready.table } };
}

const swapped = new WeakMap<Model, Map<string, Model>>();

function swappedModel(model: Model, shape: RollupShape, ready: ReadyRollup): Model {
  let byTable = swapped.get(model);
  if (!byTable) swapped.set(model, (byTable = new Map()));
  let out = byTable.get(ready.table);
  if (!out) {
    out = { cubes: { ...model.cubes, [shape.cube.name]: rollupCube(shape, ready) }, views: model.views };
    byTable.set(ready.table, out);
  }
  return out;
}

function columnSql(cube: string, column: string, around?: (text: string) => [string, string]): SqlTemplate {
  const [before, after] = around ? around(column) : ['', ''];
  return {
    parts: [...(before ? [{ kind: 'text' as const, text: before }] : []), { kind: 'cube', cube }, { kind: 'text', text: `.${column}${after}` }],
    source: `${before}{CUBE}.${column}${after}`,
  };
}

/** The cube as the rollup table shows it: same names, columns of the rollup. */
function rollupCube(shape: RollupShape, ready: ReadyRollup): Cube {
  const cube = shape.cube;
  const name = cube.name;
  const dimensions: Record<string, Dimension> = {};
  for (const d of shape.dimensions) {
    const { case: _case, ...rest } = d.dimension;
    dimensions[d.dimension.name] = { ...rest, sql: columnSql(name, d.column) };
  }
  if (shape.time && !dimensions[shape.time.dimension.name]) {
    const { case: _case, ...rest } = shape.time.dimension;
    dimensions[shape.time.dimension.name] = { ...rest, sql: columnSql(name, shape.time.column) };
  }
  const segments: Record<string, Segment> = {};
  for (const s of shape.segments) segments[s.name] = { ...cube.segments[s.name], sql: columnSql(name, s.column, () => ['', ' = 1']) };
  const leafBySignature = new Map(shape.leaves.map((l) => [leafSignature(l.measure), l]));
  const measures: Record<string, Measure> = {};
  for (const m of Object.values(cube.measures)) {
    if (!shape.served.has(m.name)) continue;
    const leaf = leafBySignature.get(leafSignature(m));
    if (!leaf) {
      measures[m.name] = m; // a number measure over served measures: the same SQL over their new columns
      continue;
    }
    const type = leaf.kind === 'count' ? 'sum' : leaf.kind === 'uniqExact' ? 'number' : leaf.kind;
    const sql = leaf.kind === 'uniqExact' ? columnSql(name, leaf.column, () => ['uniqExactMerge(', ')']) : columnSql(name, leaf.column);
    measures[m.name] = { ...m, type, sql, filters: [] };
  }
  const { preAggregations: _p, sql: _sql, refreshKey: _rk, ...rest } = cube;
  return {
    ...rest,
    sqlTable: ready.table,
    tenant: { kind: 'column', column: ROLLUP_TENANT_COLUMN },
    dimensions,
    measures,
    segments,
    joins: Object.fromEntries(lookupJoins(shape)),
    primaryKey: [],
  };
}
