/**
 * /v1/meta in Cube's shape, built from the caller's catalog (QueryService.catalog), so a caller
 * never learns of a member its scopes do not cover.
 */
import type { CatalogCube, CatalogMember } from '../query/types.js';
import type { MeasureType, Model } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';
import { memberExtras } from '../query/agent-catalog.js';
import { groupDrillMembers } from './format.js';

type Json = Record<string, unknown>;

/** Cube spells aggregation types in camelCase in /meta. */
const AGG_TYPES: Readonly<Record<MeasureType, string>> = {
  count: 'count',
  count_distinct: 'countDistinct',
  count_distinct_approx: 'countDistinctApprox',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
  number: 'number',
  string: 'string',
  time: 'time',
  boolean: 'boolean',
};

function nonEmpty(meta: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> | undefined {
  return Object.keys(meta).length ? meta : undefined;
}

/** Strata's extra fields (agents read them; Cube's client ignores unknown keys): see agent-catalog.ts. */
function extras(model: Model, m: CatalogMember): Json {
  const x = memberExtras(model, m);
  return {
    synonyms: x.synonyms.length ? x.synonyms : undefined,
    seeAlso: x.seeAlso.length ? x.seeAlso : undefined,
    rollingWindow: x.rollingWindow,
    filterOperators: x.filterOperators.length ? x.filterOperators : undefined,
  };
}

function base(m: CatalogMember): Json {
  return {
    name: m.path,
    title: m.title,
    shortTitle: m.shortTitle,
    description: m.description,
    meta: nonEmpty(m.meta),
    isVisible: true,
    public: true,
  };
}

function measure(model: Model, m: CatalogMember): Json {
  const def = definition(model, m.path);
  const cumulative = def?.kind === 'measure' && def.rollingWindow !== undefined;
  const drill = def?.kind === 'measure' ? def.drillMembers : [];
  return {
    ...base(m),
    type: m.type,
    aggType: m.aggType ? AGG_TYPES[m.aggType] : 'number',
    cumulative,
    cumulativeTotal: cumulative,
    drillMembers: [...drill],
    drillMembersGrouped: groupDrillMembers(model, drill),
    format: m.format,
    currency: def?.kind === 'measure' ? def.currency : undefined,
  };
}

function dimension(m: CatalogMember): Json {
  return { ...base(m), type: m.type, format: m.format, primaryKey: m.primaryKey ?? false, suggestFilterValues: true };
}

function definition(model: Model, path: string) {
  try {
    return resolveMember(model, path).member;
  } catch {
    return undefined;
  }
}

/** Cubes joined to each other (directly or not) share a component number, as in Cube. */
export function connectedComponents(catalog: readonly CatalogCube[]): Map<string, number> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let p = parent.get(x) ?? x;
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p;
    parent.set(x, p);
    return p;
  };
  for (const c of catalog) if (c.kind === 'cube') for (const j of c.joins) parent.set(find(c.name), find(j.target));
  const ids = new Map<string, number>();
  const out = new Map<string, number>();
  for (const c of catalog) {
    if (c.kind !== 'cube') continue;
    const root = find(c.name);
    if (!ids.has(root)) ids.set(root, ids.size + 1);
    out.set(c.name, ids.get(root)!);
  }
  return out;
}

export function toCubeMeta(model: Model, catalog: readonly CatalogCube[], options: { onlyViews?: boolean } = {}): { cubes: Json[] } {
  const components = connectedComponents(catalog);
  const cubes = catalog
    .filter((c) => !options.onlyViews || c.kind === 'view')
    .map((c) => ({
      name: c.name,
      title: c.title,
      type: c.kind,
      description: c.description,
      meta: nonEmpty(c.meta),
      connectedComponent: components.get(c.name),
      isVisible: true,
      public: true,
      measures: c.measures.map((m) => ({ ...measure(model, m), ...extras(model, m) })),
      dimensions: c.dimensions.map((m) => ({ ...dimension(m), ...extras(model, m) })),
      segments: c.segments.map(base),
      hierarchies: [],
      folders: [],
      nestedFolders: [],
    }));
  return { cubes };
}
