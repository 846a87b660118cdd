/**
 * Turns raw YAML objects into resolved cubes and views. Lenient on purpose: it never throws on
 * bad input (it skips or defaults), because the rules report every problem and the loader
 * only returns the model when there are none.
 */
import type {
  CaseDimension,
  CustomGranularity,
  Cube,
  Dimension,
  Join,
  Measure,
  MeasureType,
  PreAggregation,
  Member,
  MemberFormat,
  RefreshKey,
  RollingWindow,
  Segment,
  SqlTemplate,
  View,
  ViewMember,
  DimensionType,
} from './model.js';
import { intervalSeconds, parseInterval } from './interval.js';
import { RawObject } from './raw.js';
import { IDENTIFIER, RELATIONSHIPS, ROLLUP_GRANULARITIES } from './yaml-shapes.js';
import { humanize } from './titles.js';
import { parseSnippet, sqlText } from './walk.js';

export interface BuiltCubes {
  readonly cubes: Record<string, Cube>;
  /** A member's own `public` flag (ignoring its cube's), which views use: cubes may be private while views expose them. */
  readonly ownPublic: ReadonlyMap<string, boolean>;
  /** The raw object each built cube came from (the first declaration when names repeat). */
  readonly raws: ReadonlyMap<string, RawObject>;
}

/** Sorted, unique strings from a `scopes:` value. */
export function scopeList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((s): s is string => typeof s === 'string'))].sort();
}

function mergeScopes(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function isPublic(obj: RawObject): boolean {
  return obj.bool('public') ?? obj.bool('shown') ?? true;
}

function metaOf(obj: RawObject): Record<string, unknown> {
  const v = obj.get('meta')?.value;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function buildCubes(rawCubes: readonly RawObject[], cubeNames: ReadonlySet<string>): BuiltCubes {
  const cubes: Record<string, Cube> = {};
  const ownPublic = new Map<string, boolean>();
  const raws = new Map<string, RawObject>();
  for (const raw of rawCubes) {
    const name = raw.str('name');
    if (!name || !IDENTIFIER.test(name) || Object.hasOwn(cubes, name)) continue;
    cubes[name] = buildCube(raw, name, cubeNames, ownPublic);
    raws.set(name, raw);
  }
  return { cubes, ownPublic, raws };
}

function buildCube(raw: RawObject, name: string, cubeNames: ReadonlySet<string>, ownPublic: Map<string, boolean>): Cube {
  const template = (obj: RawObject, key: string): SqlTemplate | undefined => {
    const source = sqlText(obj, key);
    if (source === undefined) return undefined;
    return parseSnippet(source, name, cubeNames).template ?? { parts: [{ kind: 'text', text: source }], source };
  };
  const title = raw.str('title') ?? humanize(name);
  const cubePublic = isPublic(raw);
  const cubeScopes = scopeList(raw.get('scopes')?.value);

  const base = (obj: RawObject, memberName: string) => {
    const shortTitle = obj.str('title') ?? humanize(memberName);
    const own = isPublic(obj);
    ownPublic.set(`${name}.${memberName}`, own);
    return {
      cube: name,
      name: memberName,
      path: `${name}.${memberName}`,
      title: `${title} ${shortTitle}`,
      shortTitle,
      ...(obj.str('description') !== undefined ? { description: obj.str('description') } : {}),
      meta: metaOf(obj),
      public: cubePublic && own,
      scopes: mergeScopes(cubeScopes, scopeList(obj.get('scopes')?.value)),
      location: { file: obj.file, line: obj.line },
    };
  };
  const named = (list: RawObject[]) =>
    list.flatMap((obj) => {
      const n = obj.str('name');
      return n && IDENTIFIER.test(n) ? [[n, obj] as const] : [];
    });

  const measures: Record<string, Measure> = {};
  const dimensions: Record<string, Dimension> = {};
  const segments: Record<string, Segment> = {};
  const taken = (n: string) => Object.hasOwn(measures, n) || Object.hasOwn(dimensions, n) || Object.hasOwn(segments, n);

  for (const [n, obj] of named(raw.list('measures'))) {
    if (taken(n)) continue;
    const sql = template(obj, 'sql');
    const rolling = rollingWindow(obj.map('rolling_window'));
    const format = obj.str('format') as MemberFormat | undefined;
    const currency = obj.str('currency');
    measures[n] = {
      kind: 'measure',
      ...base(obj, n),
      type: (obj.str('type') ?? 'count') as MeasureType,
      ...(sql ? { sql } : {}),
      filters: obj.list('filters').flatMap((f) => {
        const t = template(f, 'sql');
        return t ? [t] : [];
      }),
      ...(rolling ? { rollingWindow: rolling } : {}),
      ...(format ? { format } : {}),
      ...(currency ? { currency } : {}),
      drillMembers: drillMembers(obj.get('drill_members')?.value, name),
    };
  }
  for (const [n, obj] of named(raw.list('dimensions'))) {
    if (taken(n)) continue;
    const sql = template(obj, 'sql');
    const caseObj = obj.map('case');
    const format = obj.str('format') as MemberFormat | undefined;
    let caseDim: CaseDimension | undefined;
    if (caseObj) {
      const elseLabel = caseObj.map('else')?.str('label');
      caseDim = {
        when: caseObj.list('when').flatMap((w) => {
          const t = template(w, 'sql');
          return t ? [{ sql: t, label: w.str('label') ?? '' }] : [];
        }),
        ...(elseLabel !== undefined ? { else: elseLabel } : {}),
      };
    }
    dimensions[n] = {
      kind: 'dimension',
      ...base(obj, n),
      type: (obj.str('type') ?? 'string') as DimensionType,
      ...(sql ? { sql } : {}),
      ...(caseDim ? { case: caseDim } : {}),
      primaryKey: obj.bool('primary_key') === true,
      ...(format ? { format } : {}),
      ...(obj.has('granularities') ? { granularities: granularities(obj.list('granularities')) } : {}),
    };
  }
  for (const [n, obj] of named(raw.list('segments'))) {
    if (taken(n)) continue;
    segments[n] = { kind: 'segment', ...base(obj, n), sql: template(obj, 'sql') ?? { parts: [], source: '' } };
  }

  const joins: Record<string, Join> = {};
  for (const [target, obj] of named(raw.list('joins'))) {
    if (Object.hasOwn(joins, target)) continue;
    joins[target] = {
      target,
      relationship: RELATIONSHIPS[obj.str('relationship') ?? ''] ?? 'many_to_one',
      sql: template(obj, 'sql') ?? { parts: [], source: '' },
      location: { file: obj.file, line: obj.line },
    };
  }

  const rk = raw.map('refresh_key');
  let refreshKey: RefreshKey | undefined;
  if (rk) {
    const every = rk.str('every') ? parseInterval(rk.str('every')!) : undefined;
    const sql = template(rk, 'sql');
    refreshKey = { ...(every ? { everySeconds: intervalSeconds(every) } : {}), ...(sql ? { sql } : {}) };
  }
  const preAggregations = raw.list('pre_aggregations').flatMap((p) => preAggregation(p, name));
  const tenantColumn = raw.str('tenant_column');
  const sqlTable = raw.str('sql_table');
  const sql = template(raw, 'sql');
  const description = raw.str('description');
  return {
    kind: 'cube',
    name,
    title,
    ...(description !== undefined ? { description } : {}),
    ...(sqlTable !== undefined ? { sqlTable } : {}),
    ...(sql ? { sql } : {}),
    tenant: raw.bool('shared') === true && tenantColumn === undefined ? { kind: 'shared' } : { kind: 'column', column: tenantColumn ?? '' },
    measures,
    dimensions,
    segments,
    joins,
    primaryKey: Object.values(dimensions)
      .filter((d) => d.primaryKey)
      .map((d) => d.name),
    ...(refreshKey ? { refreshKey } : {}),
    ...(preAggregations.length > 0 ? { preAggregations } : {}),
    public: cubePublic,
    scopes: cubeScopes,
    meta: metaOf(raw),
    location: { file: raw.file, line: raw.line },
  };
}

/** A member reference in a pre-aggregation list: `CUBE.x`, `<cube>.x` or `x` -> `x`. */
export function preAggregationMemberName(ref: string, cube: string): string {
  const dot = ref.indexOf('.');
  if (dot < 0) return ref;
  const owner = ref.slice(0, dot);
  return owner === 'CUBE' || owner === cube ? ref.slice(dot + 1) : ref;
}

function preAggregation(obj: RawObject, cube: string): PreAggregation[] {
  const name = obj.str('name');
  if (!name || !IDENTIFIER.test(name) || (obj.str('type') ?? 'rollup') !== 'rollup') return [];
  const names = (key: string) => {
    const v = obj.get(key)?.value;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => preAggregationMemberName(x, cube)) : [];
  };
  const grain = (key: string) => {
    const g = obj.str(key);
    return g && (ROLLUP_GRANULARITIES as readonly string[]).includes(g) ? (g as PreAggregation['partitionGranularity']) : undefined;
  };
  const time = obj.str('time_dimension');
  const granularity = grain('granularity');
  const every = obj.map('refresh_key')?.str('every');
  const interval = every ? parseInterval(every) : undefined;
  return [
    {
      name,
      cube,
      measures: names('measures'),
      dimensions: names('dimensions'),
      segments: names('segments'),
      ...(time ? { timeDimension: preAggregationMemberName(time, cube) } : {}),
      ...(granularity ? { granularity } : {}),
      partitionGranularity: grain('partition_granularity') ?? 'month',
      ...(interval ? { refreshEverySeconds: intervalSeconds(interval) } : {}),
      location: { file: obj.file, line: obj.line },
    },
  ];
}

function granularities(list: RawObject[]): Record<string, CustomGranularity> {
  const out: Record<string, CustomGranularity> = {};
  for (const g of list) {
    const name = g.str('name');
    const interval = parseInterval(g.str('interval') ?? '');
    if (!name || !interval || Object.hasOwn(out, name)) continue;
    const offset = g.str('offset') !== undefined ? parseInterval(g.str('offset')!) : undefined;
    const origin = g.str('origin');
    out[name] = { name, title: g.str('title') ?? humanize(name), interval, ...(offset ? { offset } : {}), ...(origin ? { origin } : {}) };
  }
  return out;
}

function rollingWindow(obj: RawObject | undefined): RollingWindow | undefined {
  if (!obj) return undefined;
  const bound = (key: string) => {
    const s = obj.str(key);
    if (s === undefined) return undefined;
    return s === 'unbounded' ? ('unbounded' as const) : parseInterval(s);
  };
  const trailing = bound('trailing');
  const leading = bound('leading');
  return {
    ...(trailing ? { trailing } : {}),
    ...(leading ? { leading } : {}),
    offset: obj.str('offset') === 'start' ? 'start' : 'end',
  };
}

/** drill_members entries "name" (own cube) or "cube.name", as full paths. */
export function drillMembers(value: unknown, cube: string): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string').map((v) => (v.includes('.') ? v : `${cube}.${v}`));
}

// ---------------------------------------------------------------- views

export type JoinPathResult = { ok: true; cubes: string[] } | { ok: false; index: number; reason: 'unknown_cube' | 'no_join'; segment: string };

/** Walks "a.b.c": `a` must be a cube and each next segment a join declared on the previous cube. */
export function walkJoinPath(path: string, cubes: Readonly<Record<string, Cube>>): JoinPathResult {
  const segs = path.split('.').map((s) => s.trim());
  if (!Object.hasOwn(cubes, segs[0])) return { ok: false, index: 0, reason: 'unknown_cube', segment: segs[0] };
  for (let i = 1; i < segs.length; i++) {
    const prev = cubes[segs[i - 1]];
    if (!Object.hasOwn(prev.joins, segs[i])) {
      return { ok: false, index: i, reason: Object.hasOwn(cubes, segs[i]) ? 'no_join' : 'unknown_cube', segment: segs[i] };
    }
  }
  return { ok: true, cubes: segs };
}

export interface ViewInclude {
  /** The cube member name. */
  readonly member: string;
  readonly alias?: string;
  readonly title?: string;
  readonly description?: string;
  readonly line: number;
}

/** The includes of a view cube entry: every member for "*", otherwise the listed ones. */
export function viewIncludes(vc: RawObject, cube: Cube): ViewInclude[] {
  const field = vc.get('includes');
  if (field?.value === '*') {
    return allCubeMembers(cube).map((m) => ({ member: m.name, line: field.line }));
  }
  return vc.items('includes').flatMap((item): ViewInclude[] => {
    if (item instanceof RawObject) {
      const member = item.str('name');
      if (member === undefined) return [];
      return [{ member, alias: item.str('alias'), title: item.str('title'), description: item.str('description'), line: item.line }];
    }
    return typeof item.value === 'string' ? [{ member: item.value, line: item.line }] : [];
  });
}

export function allCubeMembers(cube: Cube): Member[] {
  return [...Object.values(cube.measures), ...Object.values(cube.dimensions), ...Object.values(cube.segments)];
}

export function findMember(cube: Cube, name: string): Member | undefined {
  if (Object.hasOwn(cube.measures, name)) return cube.measures[name];
  if (Object.hasOwn(cube.dimensions, name)) return cube.dimensions[name];
  if (Object.hasOwn(cube.segments, name)) return cube.segments[name];
  return undefined;
}

export function excludedNames(vc: RawObject): Set<string> {
  const v = vc.get('excludes')?.value;
  return new Set(Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
}

/** The name a member is exposed under: alias, else `<prefix>_<member>` with prefix, else the member name. */
export function exposedName(vc: RawObject, lastCube: string, inc: ViewInclude): string {
  if (inc.alias) return inc.alias;
  return vc.bool('prefix') ? `${vc.str('alias') ?? lastCube}_${inc.member}` : inc.member;
}

export interface ViewMemberDraft {
  readonly member: ViewMember;
  readonly line: number;
}

/** Every member a view entry exposes (first one wins on a name collision; the rule reports it). */
export function viewMemberDrafts(view: RawObject, viewName: string, viewTitle: string, viewPublic: boolean, built: BuiltCubes): ViewMemberDraft[] {
  const out: ViewMemberDraft[] = [];
  for (const vc of view.list('cubes')) {
    const path = vc.str('join_path');
    if (!path) continue;
    const walked = walkJoinPath(path, built.cubes);
    if (!walked.ok) continue;
    const lastCube = walked.cubes[walked.cubes.length - 1];
    const cube = built.cubes[lastCube];
    const excluded = excludedNames(vc);
    for (const inc of viewIncludes(vc, cube)) {
      if (excluded.has(inc.member)) continue;
      const target = findMember(cube, inc.member);
      if (!target) continue;
      const name = exposedName(vc, lastCube, inc);
      const renamed = name !== inc.member;
      const shortTitle = inc.title ?? (renamed ? humanize(name) : target.shortTitle);
      const description = inc.description ?? target.description;
      out.push({
        line: inc.line,
        member: {
          name,
          path: `${viewName}.${name}`,
          kind: target.kind,
          target: target.path,
          joinPath: walked.cubes,
          title: `${viewTitle} ${shortTitle}`,
          ...(description !== undefined ? { description } : {}),
          public: viewPublic && (built.ownPublic.get(target.path) ?? true),
          scopes: target.scopes,
        },
      });
    }
  }
  return out;
}

export function buildViews(rawViews: readonly RawObject[], built: BuiltCubes): Record<string, View> {
  const views: Record<string, View> = {};
  for (const raw of rawViews) {
    const name = raw.str('name');
    if (!name || !IDENTIFIER.test(name) || Object.hasOwn(views, name) || Object.hasOwn(built.cubes, name)) continue;
    const title = raw.str('title') ?? humanize(name);
    const isPub = isPublic(raw);
    const members: Record<string, ViewMember> = {};
    for (const d of viewMemberDrafts(raw, name, title, isPub, built)) {
      if (!Object.hasOwn(members, d.member.name)) members[d.member.name] = d.member;
    }
    const description = raw.str('description');
    views[name] = {
      kind: 'view',
      name,
      title,
      ...(description !== undefined ? { description } : {}),
      members,
      public: isPub,
      meta: metaOf(raw),
      location: { file: raw.file, line: raw.line },
    };
  }
  return views;
}
