/**
 * A deterministic generator of random, valid semantic queries over a model (seeded mulberry32 PRNG:
 * same seed + model + samples -> same queries). Each query picks a source — a cube plus every cube
 * reachable through its joins, or one view — and draws from it: measures (incl. derived KPIs and,
 * with a matching time dimension, rolling windows), dimensions of the root and joined cubes,
 * segments, filters with random operators (values sampled from the data of EVERY tenant, so a
 * filter may name another tenant's id), a time dimension with a granularity and a date range,
 * order, limit/offset, total and a time zone.
 *
 * Used by test/integration/core/isolation.test.ts; kept model-agnostic so a new cube is fuzzed
 * without touching this file.
 */
import type { Member, Model } from '../../src/semantic/model.js';
import type { Filter, Granularity, SemanticQuery, TimeDimensionQuery } from '../../src/semantic/query.js';

export type SampleValue = string | number | boolean;
/** Observed values per cube member path ("campaigns.type"), across tenants. */
export type ValueSamples = Readonly<Record<string, readonly SampleValue[]>>;

export interface GenMember {
  /** The path to put in the query ("campaign_performance.clicks" or "ad_performance.clicks"). */
  readonly path: string;
  /** The cube member it resolves to ("ad_performance.clicks"). */
  readonly target: string;
  readonly cube: string;
  readonly kind: 'measure' | 'dimension' | 'segment';
  /** Dimension type, or 'number' for measures. */
  readonly type: 'string' | 'number' | 'time' | 'boolean';
  readonly rolling: boolean;
  /** True for members of the root cube (cube sources). */
  readonly root: boolean;
  /** Joins from the root cube to the member's cube (0 for the root and for view members). */
  readonly depth: number;
}

export interface QuerySource {
  readonly name: string;
  readonly kind: 'cube' | 'view';
  readonly members: readonly GenMember[];
}

export interface GenOptions {
  readonly seed: number;
  readonly count: number;
  readonly samples: ValueSamples;
  /** First and last day of the data, for date ranges and date filter values. */
  readonly dataRange: readonly [string, string];
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** `n` distinct items (fewer when there are not enough). */
  some<T>(items: readonly T[], n: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]);
    return out;
  }
}

/** Cubes reachable from `root` through declared joins, with their join depth (root first, depth 0). */
export function reachableCubes(model: Model, root: string): Map<string, number> {
  const seen = new Map([[root, 0]]);
  for (const [cube, depth] of seen) {
    for (const target of Object.keys(model.cubes[cube].joins)) if (!seen.has(target)) seen.set(target, depth + 1);
  }
  return seen;
}

function cubeMembers(model: Model, cube: string, depth: number): GenMember[] {
  const root = depth === 0;
  const c = model.cubes[cube];
  if (!c.public) return [];
  const out: GenMember[] = [];
  for (const m of Object.values(c.measures)) {
    if (m.public) out.push({ path: m.path, target: m.path, cube, kind: 'measure', type: 'number', rolling: Boolean(m.rollingWindow), root, depth });
  }
  for (const d of Object.values(c.dimensions)) {
    if (d.public) out.push({ path: d.path, target: d.path, cube, kind: 'dimension', type: d.type, rolling: false, root, depth });
  }
  for (const s of Object.values(c.segments)) {
    if (s.public) out.push({ path: s.path, target: s.path, cube, kind: 'segment', type: 'boolean', rolling: false, root, depth });
  }
  return out;
}

/** Every source a query can be drawn from: each public cube with its join closure, each public view. */
export function querySources(model: Model): QuerySource[] {
  const sources: QuerySource[] = [];
  for (const cube of Object.values(model.cubes)) {
    if (!cube.public) continue;
    const members = [...reachableCubes(model, cube.name)].flatMap(([c, depth]) => cubeMembers(model, c, depth));
    sources.push({ name: cube.name, kind: 'cube', members });
  }
  for (const view of Object.values(model.views)) {
    if (!view.public) continue;
    const members: GenMember[] = [];
    for (const vm of Object.values(view.members)) {
      if (!vm.public) continue;
      const [cube, name] = vm.target.split('.');
      const c = model.cubes[cube];
      const m = (c.measures[name] ?? c.dimensions[name] ?? c.segments[name]) as Member | undefined;
      if (!m) throw new Error(`view member ${vm.path} targets unknown ${vm.target}`);
      const type = m.kind === 'dimension' ? m.type : m.kind === 'segment' ? 'boolean' : 'number';
      const rolling = m.kind === 'measure' && Boolean(m.rollingWindow);
      members.push({ path: vm.path, target: vm.target, cube, kind: m.kind, type, rolling, root: true, depth: 0 });
    }
    sources.push({ name: view.name, kind: 'view', members });
  }
  return sources;
}

const GRANULARITIES: readonly (Granularity | undefined)[] = [undefined, 'day', 'week', 'month', 'quarter', 'year'];
const ZONES = ['America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'Australia/Sydney'];
const RELATIVE_RANGES = ['last 30 days', 'last 7 days', 'last month', 'this year', 'last quarter', 'last 12 months'];
const STRING_OPS = ['equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'set', 'notSet'] as const;
const NUMBER_OPS = ['equals', 'notEquals', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet'] as const;
const TIME_OPS = ['inDateRange', 'notInDateRange', 'beforeDate', 'beforeOrOnDate', 'afterDate', 'afterOrOnDate', 'set', 'notSet'] as const;
const MEASURE_OPS = ['gt', 'gte', 'lt', 'lte', 'equals', 'notEquals', 'set', 'notSet'] as const;
const THRESHOLDS = [0, 1, 5, 10, 100, 1000, 10_000, 100_000];

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

export function generateQueries(model: Model, options: GenOptions): SemanticQuery[] {
  const rng = new Rng(mulberry32(options.seed));
  const sources = querySources(model);
  const [first, last] = options.dataRange;
  const span = daysBetween(first, last);
  const randomDay = () => addDays(first, rng.int(0, span));
  const randomRange = (maxDays: number): [string, string] => {
    const from = addDays(first, rng.int(0, span));
    const to = addDays(from, rng.int(0, maxDays));
    return [from, to > last ? last : to];
  };

  function sampleOf(m: GenMember): SampleValue {
    const values = options.samples[m.target] ?? [];
    if (values.length > 0) return rng.pick(values);
    return m.type === 'number' ? rng.pick(THRESHOLDS) : m.type === 'boolean' ? rng.chance(0.5) : 'x';
  }

  function piece(text: string, where: 'start' | 'end' | 'middle'): string {
    const len = Math.min(text.length, rng.int(1, 6));
    if (where === 'start') return text.slice(0, len);
    if (where === 'end') return text.slice(text.length - len);
    const at = rng.int(0, Math.max(0, text.length - len));
    return text.slice(at, at + len);
  }

  function dimensionFilter(m: GenMember): Filter {
    switch (m.type) {
      case 'string': {
        // Equality on sampled values half the time: the filters most likely to name another tenant's id.
        const operator = rng.chance(0.5) ? rng.pick(['equals', 'notEquals'] as const) : rng.pick(STRING_OPS);
        if (operator === 'set' || operator === 'notSet') return { member: m.path, operator };
        if (operator === 'equals' || operator === 'notEquals') {
          return { member: m.path, operator, values: Array.from({ length: rng.int(1, 3) }, () => String(sampleOf(m))) };
        }
        const where = operator.endsWith('tartsWith') ? 'start' : operator.endsWith('ndsWith') ? 'end' : 'middle';
        return { member: m.path, operator, values: [piece(String(sampleOf(m)), where)] };
      }
      case 'number': {
        const operator = rng.pick(NUMBER_OPS);
        if (operator === 'set' || operator === 'notSet') return { member: m.path, operator };
        return { member: m.path, operator, values: [String(sampleOf(m))] };
      }
      case 'boolean': {
        const operator = rng.pick(['equals', 'notEquals', 'set', 'notSet'] as const);
        if (operator === 'set' || operator === 'notSet') return { member: m.path, operator };
        return { member: m.path, operator, values: [rng.chance(0.5) ? 'true' : 'false'] };
      }
      case 'time': {
        const operator = rng.pick(TIME_OPS);
        if (operator === 'set' || operator === 'notSet') return { member: m.path, operator };
        if (operator === 'inDateRange' || operator === 'notInDateRange') return { member: m.path, operator, values: randomRange(rng.int(0, 200)) };
        return { member: m.path, operator, values: [randomDay()] };
      }
    }
  }

  function measureFilter(m: GenMember): Filter {
    const operator = rng.pick(MEASURE_OPS);
    if (operator === 'set' || operator === 'notSet') return { member: m.path, operator };
    return { member: m.path, operator, values: [String(rng.pick(THRESHOLDS))] };
  }

  let drawn = 0;
  function one(): SemanticQuery {
    // Sources in turn (not drawn): every cube and view gets its share however many there are.
    const source = sources[drawn++ % sources.length];
    // Two joins away (sessions -> campaigns -> ad rows) multiplies rows a lot: keep it to a fifth of the queries.
    const maxDepth = rng.chance(0.2) ? 2 : 1;
    const of = (kind: GenMember['kind']) => source.members.filter((m) => m.kind === kind && m.depth <= maxDepth);
    const measuresPool = of('measure');
    const dimensionPool = of('dimension').filter((d) => d.type !== 'time' || rng.chance(0.1));
    const timePool = of('dimension').filter((d) => d.type === 'time');

    // Measures: the first from the root cube (the planner roots the join tree there).
    const rootMeasures = measuresPool.filter((m) => m.root && !m.rolling);
    const wantMeasures = rng.pick([0, 1, 1, 2, 2, 3]);
    const measures: GenMember[] = wantMeasures > 0 && rootMeasures.length > 0 ? [rng.pick(rootMeasures)] : [];
    const others = measuresPool.filter((m) => !m.rolling && !measures.includes(m) && (m.root || rng.chance(0.3)));
    measures.push(...rng.some(others, wantMeasures - measures.length));

    // A rolling window needs a time dimension of its own cube with a granularity and a range.
    let td: TimeDimensionQuery | undefined;
    const rolling = measuresPool.filter((m) => m.rolling && timePool.some((t) => t.cube === m.cube));
    if (rolling.length > 0 && rng.chance(0.35)) {
      const r = rng.pick(rolling);
      measures.push(r);
      const time = rng.pick(timePool.filter((t) => t.cube === r.cube));
      const granularity = rng.pick(['day', 'week', 'month'] as const);
      td = { dimension: time.path, granularity, dateRange: randomRange(granularity === 'day' ? 30 : 180) };
    } else if (timePool.length > 0 && rng.chance(0.5)) {
      const time = rng.pick(timePool);
      const granularity = rng.pick(GRANULARITIES);
      const dateRange = rng.chance(0.2) ? rng.pick(RELATIVE_RANGES) : randomRange(granularity === 'day' ? 40 : granularity === 'week' ? 200 : span);
      td = { dimension: time.path, ...(granularity ? { granularity } : {}), dateRange };
    }

    const dimensions = rng.some(dimensionPool, rng.pick(measures.length === 0 ? [1, 1, 2, 3] : [0, 0, 1, 1, 2, 3]));
    if (measures.length === 0 && dimensions.length === 0 && dimensionPool.length > 0) dimensions.push(rng.pick(dimensionPool));
    // Without a member of the root, two joined cubes may have no path between them (email_activity ->
    // email_campaigns, mailboxes): like Cube, the planner does not route through an unnamed cube.
    const rootDimensions = dimensionPool.filter((d) => d.root);
    if (measures.length === 0 && !dimensions.some((d) => d.root) && rootDimensions.length > 0) dimensions.push(rng.pick(rootDimensions));
    const segments = rng.chance(0.25) ? rng.some(of('segment'), rng.int(1, 2)) : [];

    const filters: Filter[] = [];
    const filterable = of('dimension');
    for (let i = rng.pick([0, 0, 1, 1, 2, 3]); i > 0; i--) {
      const plain = measures.filter((m) => !m.rolling);
      if (plain.length > 0 && rng.chance(0.2)) {
        filters.push(measureFilter(rng.pick(plain)));
      } else if (filterable.length > 0) {
        const f = dimensionFilter(rng.pick(filterable));
        if (rng.chance(0.15)) {
          const pair = [f, dimensionFilter(rng.pick(filterable))];
          filters.push(rng.chance(0.5) ? { or: pair } : { and: pair });
        } else {
          filters.push(f);
        }
      }
    }

    const query: { -readonly [K in keyof SemanticQuery]: SemanticQuery[K] } = {};
    if (measures.length) query.measures = measures.map((m) => m.path);
    if (dimensions.length) query.dimensions = dimensions.map((d) => d.path);
    if (segments.length) query.segments = segments.map((s) => s.path);
    if (td) query.timeDimensions = [td];
    if (filters.length) query.filters = filters;
    const orderable = [...(query.measures ?? []), ...(query.dimensions ?? []), ...(td?.granularity ? [`${td.dimension}.${td.granularity}`] : [])];
    if (orderable.length > 0 && rng.chance(0.6)) {
      query.order = rng.some(orderable, rng.int(1, 2)).map((m) => [m, rng.chance(0.5) ? 'asc' : 'desc'] as const);
    }
    if (rng.chance(0.4)) query.limit = rng.int(1, 200);
    if (query.limit !== undefined && rng.chance(0.2)) query.offset = rng.int(0, 20);
    if (rng.chance(0.1)) query.total = true;
    if (rng.chance(0.15)) query.timezone = rng.pick(ZONES);
    return query;
  }

  return Array.from({ length: options.count }, one);
}
