/**
 * The catalog agents read, over the demo models (cube-models/): every public cube, view, member and
 * segment has a description (a new member without one fails here), the compact form stays under
 * 8k tokens, search finds members by synonyms, and a viewer's catalog holds no finance member.
 */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { compactCatalog, exampleQueries, searchCatalog, sizeOf } from '../../../src/query/agent-catalog.js';
import { buildCatalog } from '../../../src/query/catalog.js';
import { loadModelFromDir } from '../../../src/services.js';

const model = await loadModelFromDir('cube-models');
const principal = (scopes: string[]): Principal => ({ tenantId: 'acme', scopes: new Set(scopes), subject: 't', via: 'jwt', roles: [] });
const everyone = principal(['metrics:read', 'finance:read', 'clients:read']);
const catalog = buildCatalog(model, everyone);

describe('the agent catalog over the demo models', () => {
  it('has a description for every public cube, view, member and segment', () => {
    const missing: string[] = [];
    for (const c of catalog) {
      if (!c.description?.trim()) missing.push(c.name);
      for (const m of [...c.measures, ...c.dimensions, ...c.segments]) if (!m.description?.trim()) missing.push(`${m.kind} ${m.path}`);
    }
    expect(missing).toEqual([]);
  });

  it('has a compact form under 8k tokens', () => {
    const size = sizeOf(compactCatalog(model, catalog));
    expect(size.approxTokens).toBeLessThan(8000);
    expect(size.bytes).toBeGreaterThan(2000);
  });

  it('finds members by synonyms and explains why', () => {
    const [hit] = searchCatalog(catalog, 'engagements per impression');
    expect(hit.path).toBe('ad_performance.engagement_rate');
    expect(searchCatalog(catalog, 'media spend')[0]).toMatchObject({ path: 'ad_performance.cost', why: expect.arrayContaining(['synonym: spend']) });
  });

  it('gives example queries for every pattern, from members the caller may read', () => {
    expect(exampleQueries(model, catalog).map((e) => e.pattern)).toEqual(['top-n', 'trend', 'segment', 'filter', 'rolling-window', 'join', 'comparison']);
    const viewer = buildCatalog(model, principal(['metrics:read']));
    const text = JSON.stringify([compactCatalog(model, viewer), exampleQueries(model, viewer)]);
    expect(text).not.toMatch(/\bcost\b|\broas\b|\bcpa\b/);
  });
});
