/**
 * The catalog a caller may see: public members whose scopes the caller holds. Shared by the
 * GraphQL catalog, REST /meta and the SQL proxy's tables, so every door shows the same thing.
 */
import type { Principal } from '../auth/principal.js';
import type { Cube, Dimension, Join, Measure, Member, Model, View } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';
import type { SemanticQuery } from '../semantic/query.js';
import { shapeOf } from '../compiler/rollup/route.js';
import { canRead } from './authorize.js';
import type { CatalogCube, CatalogMember, CatalogRollup } from './types.js';

function memberType(m: Member): CatalogMember['type'] {
  if (m.kind === 'segment') return 'boolean';
  if (m.kind === 'dimension') return m.type;
  return m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? m.type : 'number';
}

function toCatalogMember(m: Member, path: string, name: string, overrides: Partial<CatalogMember> = {}): CatalogMember {
  return {
    path,
    name,
    kind: m.kind,
    type: memberType(m),
    aggType: m.kind === 'measure' ? m.type : undefined,
    title: m.title,
    shortTitle: m.shortTitle,
    description: m.description,
    format: m.kind === 'segment' ? undefined : m.format,
    scopes: m.scopes,
    primaryKey: m.kind === 'dimension' ? m.primaryKey : undefined,
    meta: m.meta,
    ...overrides,
  };
}

function exampleQuery(cubeName: string, measures: readonly CatalogMember[], dimensions: readonly CatalogMember[]): SemanticQuery {
  const time = dimensions.find((d) => d.type === 'time');
  const dim = dimensions.find((d) => d.type === 'string' && !d.primaryKey);
  const q: { measures: string[]; dimensions?: string[]; timeDimensions?: SemanticQuery['timeDimensions']; limit: number } = {
    measures: measures.slice(0, 2).map((m) => m.path),
    limit: 10,
  };
  if (dim) q.dimensions = [dim.path];
  if (time) q.timeDimensions = [{ dimension: time.path, granularity: 'month', dateRange: 'last 3 months' }];
  void cubeName;
  return q;
}

const COLUMN_EQUALITY = /^\{(\w+)\}\.(\w+)\s*=\s*\{(\w+)\}\.(\w+)$/;

/** The dimension of a cube whose SQL is exactly one column (`{CUBE}.col` or `col`), when the caller may see it. */
function columnDimension(cube: Cube, column: string, principal: Principal): string | undefined {
  for (const d of Object.values(cube.dimensions) as Dimension[]) {
    const sql = d.sql?.source.trim();
    if (sql === `{CUBE}.${column}` || sql === column || sql === `{${cube.name}}.${column}`)
      return d.public && canRead(principal, d.scopes) ? d.name : undefined;
  }
  return undefined;
}

/**
 * A join's ON condition as pairs of dimension names ([source dimension, target dimension]), when it is
 * a conjunction of column equalities that dimensions the caller may see expose (a hidden key is never
 * named); the tenant column's equality is the tenant
 * pass's, not the caller's, and is left out. Undefined when the condition is anything else.
 * The SQL proxy accepts `JOIN … ON` only when it says exactly this (sqlproxy/compose/model-join.ts).
 */
function joinKeys(model: Model, cube: Cube, join: Join, principal: Principal): [string, string][] | undefined {
  const target = model.cubes[join.target];
  if (!target) return undefined;
  const keys: [string, string][] = [];
  for (const part of join.sql.source.split(/\s+AND\s+/i)) {
    const m = COLUMN_EQUALITY.exec(part.trim().replace(/^\(|\)$/g, ''));
    if (!m) return undefined;
    const side = (name: string) => (name === 'CUBE' || name === cube.name ? cube : name === target.name ? target : undefined);
    let [a, b] = [
      { cube: side(m[1]), column: m[2] },
      { cube: side(m[3]), column: m[4] },
    ];
    if (!a.cube || !b.cube || a.cube === b.cube) return undefined;
    if (a.cube !== cube) [a, b] = [b, a];
    const tenantColumn = (c: Cube) => (c.tenant.kind === 'column' ? c.tenant.column : undefined);
    if (a.column === tenantColumn(cube) && b.column === tenantColumn(target)) continue;
    const from = columnDimension(cube, a.column, principal);
    const to = columnDimension(target, b.column, principal);
    if (!from || !to) return undefined;
    keys.push([from, to]);
  }
  return keys.length ? keys : undefined;
}

function cubeEntry(model: Model, cube: Cube, principal: Principal): CatalogCube | undefined {
  if (!cube.public) return undefined;
  const visible = <T extends Member>(ms: Record<string, T>) =>
    Object.values(ms)
      .filter((m) => m.public && canRead(principal, m.scopes))
      .map((m) => toCatalogMember(m, m.path, m.name));
  const measures = visible(cube.measures as Record<string, Measure>);
  const dimensions = visible(cube.dimensions as Record<string, Dimension>);
  const segments = visible(cube.segments);
  if (measures.length + dimensions.length + segments.length === 0) return undefined;
  return {
    name: cube.name,
    kind: 'cube',
    title: cube.title,
    description: cube.description,
    measures,
    dimensions,
    segments,
    joins: Object.values(cube.joins).map((j) => {
      const keys = joinKeys(model, cube, j, principal);
      return { target: j.target, relationship: j.relationship, ...(keys ? { keys } : {}) };
    }),
    exampleQuery: exampleQuery(cube.name, measures, dimensions),
    meta: cube.meta,
    ...(cube.preAggregations?.length ? { rollups: rollupEntries(model, cube, new Set([...measures, ...dimensions, ...segments].map((m) => m.name))) } : {}),
  };
}

/** What each rollup answers, naming only members the caller may read. */
function rollupEntries(model: Model, cube: Cube, visible: ReadonlySet<string>): CatalogRollup[] {
  return (cube.preAggregations ?? []).map((pre) => {
    const shape = shapeOf(model, pre);
    const paths = (names: Iterable<string>) => [...names].filter((n) => visible.has(n)).map((n) => `${cube.name}.${n}`);
    const time = pre.timeDimension && visible.has(pre.timeDimension) ? pre.timeDimension : undefined;
    return {
      name: `${cube.name}.${pre.name}`,
      measures: paths(Object.keys(cube.measures).filter((m) => shape.served.has(m))),
      dimensions: paths(pre.dimensions),
      segments: paths(pre.segments),
      ...(time ? { timeDimension: `${cube.name}.${time}`, ...(pre.granularity ? { granularity: pre.granularity } : {}) } : {}),
    };
  });
}

function viewEntry(model: Model, view: View, principal: Principal): CatalogCube | undefined {
  if (!view.public) return undefined;
  const measures: CatalogMember[] = [];
  const dimensions: CatalogMember[] = [];
  const segments: CatalogMember[] = [];
  for (const vm of Object.values(view.members)) {
    if (!vm.public || !canRead(principal, vm.scopes)) continue;
    const { member } = resolveMember(model, vm.path);
    const entry = toCatalogMember(member, vm.path, vm.name, { title: vm.title, description: vm.description ?? member.description, scopes: vm.scopes });
    (member.kind === 'measure' ? measures : member.kind === 'dimension' ? dimensions : segments).push(entry);
  }
  if (measures.length + dimensions.length + segments.length === 0) return undefined;
  return {
    name: view.name,
    kind: 'view',
    title: view.title,
    description: view.description,
    measures,
    dimensions,
    segments,
    joins: [],
    exampleQuery: exampleQuery(view.name, measures, dimensions),
    meta: view.meta,
  };
}

export function buildCatalog(model: Model, principal: Principal): CatalogCube[] {
  const out: CatalogCube[] = [];
  for (const cube of Object.values(model.cubes)) {
    const e = cubeEntry(model, cube, principal);
    if (e) out.push(e);
  }
  for (const view of Object.values(model.views)) {
    const e = viewEntry(model, view, principal);
    if (e) out.push(e);
  }
  return out;
}
