/**
 * The catalog a caller may see: public members whose scopes the caller holds. Shared by the
 * GraphQL catalog, REST /meta and the SQL proxy's tables, so every door shows the same thing.
 */
import type { Principal } from '../auth/principal.js';
import type { Cube, Dimension, Measure, Member, Model, View } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';
import type { SemanticQuery } from '../semantic/query.js';
import { canRead } from './authorize.js';
import type { CatalogCube, CatalogMember } from './types.js';

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

function cubeEntry(cube: Cube, principal: Principal): CatalogCube | undefined {
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
    joins: Object.values(cube.joins).map((j) => ({ target: j.target, relationship: j.relationship })),
    exampleQuery: exampleQuery(cube.name, measures, dimensions),
    meta: cube.meta,
  };
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
    const e = cubeEntry(cube, principal);
    if (e) out.push(e);
  }
  for (const view of Object.values(model.views)) {
    const e = viewEntry(model, view, principal);
    if (e) out.push(e);
  }
  return out;
}
