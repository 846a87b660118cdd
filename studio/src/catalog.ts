/** Loading the caller's catalog (only what their scopes let them see), and searching it by words. */
import { gql } from './api.js';
import type { Catalog, CatalogCube, CatalogMember } from './types.js';

const MEMBER = 'name path kind type aggType title shortTitle description format requiredScopes synonyms graphqlName currency';

export async function loadCatalog(token: string): Promise<Catalog> {
  const data = await gql<{ catalog: Catalog }>(
    token,
    `query StudioCatalog { catalog { cubes { name kind graphqlField title description coverage { timeDimension firstDate lastDate approxRows lastIngestedAt }
      measures { ${MEMBER} } dimensions { ${MEMBER} } segments { ${MEMBER} } } } }`,
  );
  return data.catalog;
}

/** Words of the search box; every word must match the member (or its cube) somewhere. */
export function words(search: string): string[] {
  return search.toLowerCase().split(/\s+/).filter(Boolean);
}

function text(...parts: (string | null | undefined | readonly string[])[]): string {
  return parts
    .flat()
    .filter((p): p is string => typeof p === 'string')
    .join(' ')
    .toLowerCase()
    .replace(/_/g, ' ');
}

export function memberMatches(cube: CatalogCube, m: CatalogMember, ws: readonly string[]): boolean {
  if (ws.length === 0) return true;
  const hay = `${text(m.name, m.title, m.description, m.synonyms, m.path)} ${text(cube.name, cube.title)}`;
  return ws.every((w) => hay.includes(w.replace(/_/g, ' ')));
}

export function cubeMatches(cube: CatalogCube, ws: readonly string[]): number {
  if (ws.length === 0) return 1;
  const own = text(cube.name, cube.title, cube.description);
  if (ws.every((w) => own.includes(w.replace(/_/g, ' ')))) return 1;
  return [...cube.measures, ...cube.dimensions, ...cube.segments].filter((m) => memberMatches(cube, m, ws)).length;
}

export function timeDimensions(cube: CatalogCube): CatalogMember[] {
  return cube.dimensions.filter((d) => d.type === 'time');
}
