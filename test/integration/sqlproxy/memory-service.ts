/**
 * A door-test double: an in-memory QueryService over a tiny dataset, plus an Authenticator of
 * fixed keys. It exists to test the SQL proxy's protocol handling with real clients; the real
 * query service and engine are exercised by test/e2e/sqlproxy.
 */
import type { Authenticator } from '../../../src/auth/authenticator.js';
import type { Principal } from '../../../src/auth/principal.js';
import { EngineError, ForbiddenError, UnauthenticatedError, UserError } from '../../../src/errors.js';
import type { CellValue, CompileResult, QueryResult, QueryService, RequestContext } from '../../../src/query/types.js';
import type { Filter, FilterValue, SemanticQuery } from '../../../src/semantic/query.js';
import { fixtureCatalog } from '../../unit/sqlproxy/fixture.js';

export interface Row {
  tenant: string;
  date: string;
  channel: string;
  campaign_id: number;
  is_mobile: boolean;
  clicks: number;
  impressions: number;
  spend: number;
  paid: boolean;
}

const CHANNELS = ['search', 'social', 'display', 'video'];

/** Deterministic rows: 2 tenants x 60 days x 4 channels. */
export function dataset(): Row[] {
  const rows: Row[] = [];
  for (const tenant of ['acme', 'globex']) {
    for (let d = 0; d < 60; d++) {
      const date = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().replace('Z', '');
      CHANNELS.forEach((channel, i) => {
        const seed = (d + 1) * (i + 3) * (tenant === 'acme' ? 7 : 13);
        rows.push({
          tenant,
          date,
          channel,
          campaign_id: 100 + i,
          is_mobile: d % 2 === 0,
          clicks: seed % 97,
          impressions: 1000 + (seed % 503),
          spend: (seed % 50) + 0.25,
          paid: channel === 'search',
        });
      });
    }
  }
  return rows;
}

export const KEYS: Record<string, Principal> = {
  sk_acme_analyst: { tenantId: 'acme', scopes: new Set(['metrics:read', 'finance:read']), subject: 'k1', via: 'api_key', roles: [] },
  sk_acme_viewer: { tenantId: 'acme', scopes: new Set(['metrics:read']), subject: 'k2', via: 'api_key', roles: [] },
  sk_globex_analyst: { tenantId: 'globex', scopes: new Set(['metrics:read', 'finance:read']), subject: 'k3', via: 'api_key', roles: [] },
};

export const authenticator: Authenticator = {
  async authenticate(credential) {
    const p = KEYS[credential];
    if (!p) throw new UnauthenticatedError('invalid API key');
    return p;
  },
};

function truncate(date: string, g: string): string {
  const d = new Date(`${date}Z`);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  let out: Date;
  switch (g) {
    case 'year':
      out = new Date(Date.UTC(y, 0, 1));
      break;
    case 'quarter':
      out = new Date(Date.UTC(y, m - (m % 3), 1));
      break;
    case 'month':
      out = new Date(Date.UTC(y, m, 1));
      break;
    case 'week': {
      const dow = (d.getUTCDay() + 6) % 7;
      out = new Date(Date.UTC(y, m, d.getUTCDate() - dow));
      break;
    }
    default:
      out = new Date(Date.UTC(y, m, d.getUTCDate()));
  }
  return out.toISOString().replace('Z', '');
}

export interface MemoryService extends QueryService {
  readonly loads: { query: SemanticQuery; ctx: RequestContext }[];
}

export function memoryQueryService(rows: Row[] = dataset()): MemoryService {
  const loads: { query: SemanticQuery; ctx: RequestContext }[] = [];
  const field = (path: string) => path.split('.')[1];
  const check = (p: Principal, q: SemanticQuery) => {
    const all = [...(q.measures ?? []), ...(q.dimensions ?? [])];
    if (all.some((m) => field(m) === 'spend') && !p.scopes.has('finance:read')) throw new ForbiddenError('missing scope finance:read for ad_performance.spend');
  };
  const matches = (r: Row, f: Filter): boolean => {
    if ('and' in f) return f.and.every((x) => matches(r, x));
    if ('or' in f) return f.or.some((x) => matches(r, x));
    const v = (r as unknown as Record<string, unknown>)[field(f.member)];
    const vals = (f.values ?? []) as FilterValue[];
    switch (f.operator) {
      case 'equals':
        return vals.some((x) => String(x) === String(v));
      case 'notEquals':
        return !vals.some((x) => String(x) === String(v));
      case 'contains':
        return vals.some((x) => String(v).toLowerCase().includes(String(x).toLowerCase()));
      case 'startsWith':
        return vals.some((x) => String(v).toLowerCase().startsWith(String(x).toLowerCase()));
      case 'gt':
        return Number(v) > Number(vals[0]);
      case 'gte':
        return Number(v) >= Number(vals[0]);
      case 'lt':
        return Number(v) < Number(vals[0]);
      case 'lte':
        return Number(v) <= Number(vals[0]);
      case 'inDateRange':
        return String(v) >= String(vals[0]) && String(v) <= String(vals[1]);
      case 'afterOrOnDate':
        return String(v) >= String(vals[0]);
      case 'beforeDate':
        return String(v) < String(vals[0]);
      default:
        throw new UserError('BAD_USER_INPUT', `memory service: operator ${f.operator} not implemented`);
    }
  };
  return {
    loads,
    catalog: (p) => fixtureCatalog({ finance: p.scopes.has('finance:read') }),
    compile(p, q): CompileResult {
      check(p, q);
      return {} as CompileResult;
    },
    prepare(p, q) {
      check(p, q);
      return {} as CompileResult['normalized'];
    },
    async load(ctx, q): Promise<QueryResult> {
      loads.push({ query: q, ctx });
      check(ctx.principal, q);
      // A way for tests to hold a query until it is cancelled.
      if (JSON.stringify(q.filters ?? []).includes('"sleep"')) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 20_000);
          ctx.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new EngineError('QUERY_CANCELLED', 'cancelled'));
          });
        });
      }
      let data = rows.filter((r) => r.tenant === ctx.principal.tenantId);
      if (q.segments?.includes('ad_performance.paid_search')) data = data.filter((r) => r.paid);
      for (const f of q.filters ?? []) {
        if ('member' in f && (q.measures ?? []).includes(f.member)) continue; // measure filters after grouping
        data = data.filter((r) => matches(r, f));
      }
      const dims = q.dimensions ?? [];
      const tds = (q.timeDimensions ?? []).filter((t) => t.granularity);
      const groups = new Map<string, { key: Record<string, CellValue>; rows: Row[] }>();
      for (const r of data) {
        const key: Record<string, CellValue> = {};
        for (const d of dims) key[d] = (r as unknown as Record<string, CellValue>)[field(d)];
        for (const t of tds) key[`${t.dimension}.${t.granularity}`] = truncate(r.date, t.granularity!);
        const k = JSON.stringify(key);
        if (!groups.has(k)) groups.set(k, { key, rows: [] });
        groups.get(k)!.rows.push(r);
      }
      let out = [...groups.values()].map(({ key, rows: rs }) => {
        const row: Record<string, CellValue> = { ...key };
        for (const m of q.measures ?? []) {
          const name = field(m);
          const sum = (f: keyof Row) => rs.reduce((a, r) => a + (r[f] as number), 0);
          row[m] =
            name === 'count'
              ? rs.length
              : name === 'ctr'
                ? sum('clicks') / sum('impressions')
                : name === 'clicks' || name === 'impressions' || name === 'spend'
                  ? sum(name)
                  : null;
        }
        return row;
      });
      for (const f of q.filters ?? []) {
        if ('member' in f && (q.measures ?? []).includes(f.member)) out = out.filter((r) => matches({ [field(f.member)]: r[f.member] } as unknown as Row, f));
      }
      const order = Array.isArray(q.order) ? q.order : Object.entries(q.order ?? {});
      out.sort((a, b) => {
        for (const [member, dir] of order as [string, string][]) {
          const key = Object.keys(a).find((k) => k === member || k.startsWith(`${member}.`)) ?? member;
          const x = a[key] as number | string;
          const y = b[key] as number | string;
          if (x !== y) return (x < y ? -1 : 1) * (dir === 'desc' ? -1 : 1);
        }
        return 0;
      });
      out = out.slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 10_000));
      return {
        query: {} as QueryResult['query'],
        columns: [],
        rows: out,
        annotation: { measures: {}, dimensions: {}, segments: {}, timeDimensions: {} },
        lastRefreshTime: new Date().toISOString(),
        fromCache: false,
      };
    },
  };
}
