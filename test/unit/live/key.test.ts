import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { evaluationPrincipal, groupKeyOf, hasRelativeDates, liveKey } from '../../../src/live/key.js';
import type { NormalizedQuery } from '../../../src/semantic/query.js';

const p = (tenantId: string, scopes: string[], subject = 'u'): Principal => ({
  tenantId,
  scopes: new Set(scopes),
  subject,
  via: 'jwt',
  roles: ['viewer'],
  expiresAt: 123,
});

const normalized = (measures: string[]): NormalizedQuery => ({
  measures,
  dimensions: [],
  segments: [],
  timeDimensions: [],
  filters: [],
  order: [],
  limit: 100,
  offset: 0,
  total: false,
  timezone: 'UTC',
  ungrouped: false,
});

describe('live sharing keys', () => {
  it('equal tenant, scope set (any order) and query share; anything else does not', () => {
    const q = normalized(['ad_performance.clicks']);
    const k = liveKey(p('acme', ['metrics:read', 'finance:read']), q, {});
    expect(liveKey(p('acme', ['finance:read', 'metrics:read'], 'other-user'), q, {})).toBe(k);
    expect(liveKey(p('globex', ['metrics:read', 'finance:read']), q, {})).not.toBe(k);
    expect(liveKey(p('acme', ['metrics:read']), q, {})).not.toBe(k);
    expect(liveKey(p('acme', ['metrics:read', 'finance:read']), normalized(['ad_performance.impressions']), {})).not.toBe(k);
  });

  it('queries with relative date ranges also key on their raw text', () => {
    const q = normalized(['ad_performance.clicks']);
    const rel = { timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last 7 days' }] };
    const abs = { timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2024-01-01', '2024-01-07'] as const }] };
    expect(hasRelativeDates(rel)).toBe(true);
    expect(hasRelativeDates(abs)).toBe(false);
    expect(liveKey(p('acme', ['metrics:read']), q, rel)).not.toBe(liveKey(p('acme', ['metrics:read']), q, abs));
  });

  it('evaluations run as exactly the tenant and scope set, with nothing personal', () => {
    const e = evaluationPrincipal(p('acme', ['metrics:read', 'finance:read'], 'alice'));
    expect(e).toEqual({ tenantId: 'acme', scopes: new Set(['metrics:read', 'finance:read']), subject: 'live', via: 'jwt', roles: [] });
    expect(e.expiresAt).toBeUndefined();
    expect(groupKeyOf(e)).toBe('acme\u0000finance:read metrics:read');
  });
});
