/**
 * Builds `Model` objects directly (no YAML), for compiler tests. Mirrors the Cube YAML shape
 * loosely: snippets are plain SQL text parsed with parseSqlTemplate.
 */
import type {
  CaseDimension,
  Cube,
  Dimension,
  DimensionType,
  Join,
  Measure,
  MeasureType,
  Model,
  Relationship,
  RollingWindow,
  Segment,
  SqlTemplate,
  View,
  ViewMember,
} from '../../src/semantic/model.js';
import { parseSqlTemplate } from '../../src/semantic/template.js';

export interface MeasureSpec {
  readonly type: MeasureType;
  readonly sql?: string;
  readonly filters?: readonly string[];
  readonly rollingWindow?: RollingWindow;
  readonly public?: boolean;
  readonly scopes?: readonly string[];
}

export interface DimensionSpec {
  readonly type: DimensionType;
  readonly sql?: string;
  readonly case?: { readonly when: readonly { readonly sql: string; readonly label: string }[]; readonly else?: string };
  readonly primaryKey?: boolean;
  readonly public?: boolean;
}

export interface CubeSpec {
  readonly sqlTable?: string;
  readonly sql?: string;
  /** Tenant column; omit together with shared: true for shared cubes. */
  readonly tenantColumn?: string;
  readonly shared?: boolean;
  readonly public?: boolean;
  readonly measures?: Readonly<Record<string, MeasureSpec>>;
  readonly dimensions?: Readonly<Record<string, DimensionSpec>>;
  readonly segments?: Readonly<Record<string, string>>;
  readonly joins?: Readonly<Record<string, { readonly relationship: Relationship; readonly sql: string }>>;
  readonly refreshKey?: { readonly sql?: string; readonly everySeconds?: number };
}

export interface ViewSpec {
  readonly public?: boolean;
  /** Cube's view syntax: join_path "a.b.c", includes, prefix. */
  readonly cubes: readonly { readonly joinPath: string; readonly includes: readonly string[]; readonly prefix?: boolean }[];
}

const loc = { file: 'test-model.yml', line: 1 };

export function buildModel(spec: { cubes: Record<string, CubeSpec>; views?: Record<string, ViewSpec> }): Model {
  const cubeNames = new Set(Object.keys(spec.cubes));
  const cubes: Record<string, Cube> = {};
  for (const [name, c] of Object.entries(spec.cubes)) {
    const t = (sql: string): SqlTemplate => parseSqlTemplate(sql, { cube: name, cubeNames });
    const base = (member: string, isPublic = true) => ({
      cube: name,
      name: member,
      path: `${name}.${member}`,
      title: member,
      shortTitle: member,
      meta: {},
      public: isPublic,
      scopes: [],
      location: loc,
    });
    const measures: Record<string, Measure> = {};
    for (const [m, s] of Object.entries(c.measures ?? {})) {
      measures[m] = {
        ...base(m, s.public ?? true),
        scopes: s.scopes ?? [],
        kind: 'measure',
        type: s.type,
        sql: s.sql === undefined ? undefined : t(s.sql),
        filters: (s.filters ?? []).map(t),
        rollingWindow: s.rollingWindow,
        drillMembers: [],
      };
    }
    const dimensions: Record<string, Dimension> = {};
    for (const [d, s] of Object.entries(c.dimensions ?? {})) {
      const kase: CaseDimension | undefined = s.case && { when: s.case.when.map((w) => ({ sql: t(w.sql), label: w.label })), else: s.case.else };
      dimensions[d] = {
        ...base(d, s.public ?? true),
        kind: 'dimension',
        type: s.type,
        sql: s.sql === undefined ? undefined : t(s.sql),
        case: kase,
        primaryKey: s.primaryKey ?? false,
      };
    }
    const segments: Record<string, Segment> = {};
    for (const [g, sql] of Object.entries(c.segments ?? {})) segments[g] = { ...base(g), kind: 'segment', sql: t(sql) };
    const joins: Record<string, Join> = {};
    for (const [target, j] of Object.entries(c.joins ?? {})) joins[target] = { target, relationship: j.relationship, sql: t(j.sql), location: loc };
    cubes[name] = {
      kind: 'cube',
      name,
      title: name,
      sqlTable: c.sqlTable,
      sql: c.sql === undefined ? undefined : t(c.sql),
      tenant: c.shared ? { kind: 'shared' } : { kind: 'column', column: c.tenantColumn ?? 'tenant_id' },
      measures,
      dimensions,
      segments,
      joins,
      primaryKey: Object.entries(dimensions)
        .filter(([, d]) => d.primaryKey)
        .map(([n]) => n),
      refreshKey: c.refreshKey && { everySeconds: c.refreshKey.everySeconds, sql: c.refreshKey.sql === undefined ? undefined : t(c.refreshKey.sql) },
      public: c.public ?? true,
      scopes: [],
      meta: {},
      location: loc,
    };
  }
  const views: Record<string, View> = {};
  for (const [name, v] of Object.entries(spec.views ?? {})) {
    const members: Record<string, ViewMember> = {};
    for (const part of v.cubes) {
      const joinPath = part.joinPath.split('.');
      const cube = cubes[joinPath[joinPath.length - 1]];
      for (const inc of part.includes) {
        const member = cube.measures[inc] ?? cube.dimensions[inc] ?? cube.segments[inc];
        if (!member) throw new Error(`view ${name}: ${cube.name}.${inc} does not exist`);
        const exposed = part.prefix ? `${cube.name}_${inc}` : inc;
        members[exposed] = {
          name: exposed,
          path: `${name}.${exposed}`,
          kind: member.kind,
          target: member.path,
          joinPath,
          title: exposed,
          public: true,
          scopes: member.scopes,
        };
      }
    }
    views[name] = { kind: 'view', name, title: name, members, public: v.public ?? true, meta: {}, location: loc };
  }
  return { cubes, views };
}
