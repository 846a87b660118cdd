import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import type { Engine, EngineQueryOptions } from '../../../src/engine/engine.js';
import { EngineError } from '../../../src/errors.js';
import type { AuditEntry } from '../../../src/query/audit.js';
import { createQueryService } from '../../../src/query/query-service.js';
import { engineTime } from '../../../src/query/timing.js';
import type { RequestContext } from '../../../src/query/types.js';
import { loadModel } from '../../../src/semantic/load.js';

const model = loadModel([
  {
    path: 'cube-models/rk.yml',
    text: `
cubes:
  - name: ads
    sql_table: ad_performance
    tenant_column: tenant_id
    refresh_key:
      sql: SELECT max(updated_at) FROM {CUBE}
    measures:
      - name: count
        type: count
  - name: plain
    sql_table: plain
    tenant_column: tenant_id
    measures:
      - name: count
        type: count
`,
  },
]);

function setup(fail?: Error) {
  const asked: { sql: string; params: unknown; options?: EngineQueryOptions }[] = [];
  const engine = {
    async query(sql: string, params?: Record<string, unknown>, options?: EngineQueryOptions) {
      asked.push({ sql, params, options });
      if (fail) throw fail;
      return { rows: [{ v: '2026-01-01' }], elapsedMs: 7 };
    },
  } as unknown as Engine;
  const audited: AuditEntry[] = [];
  const query = createQueryService({
    model,
    engine,
    limits: { defaultRowLimit: 100, maxRowLimit: 1000 },
    queryTimeoutMs: 1234,
    audit: { record: (e) => audited.push(e) },
  });
  return { query, asked, audited };
}

const principal = (tenantId: string, scopes = ['metrics:read']): Principal => ({ tenantId, scopes: new Set(scopes), subject: 'live', via: 'jwt', roles: [] });
const ctx = (p: Principal, signal?: AbortSignal): RequestContext => ({ requestId: 'rk-1', door: 'live', principal: p, signal });

describe('QueryService.refreshKeyValue', () => {
  it("runs the cube's refresh key for the caller's tenant only, with the request signal and the query timeout", async () => {
    const { query, asked } = setup();
    const signal = new AbortController().signal;
    const c = ctx(principal('acme'), signal);
    expect(await query.refreshKeyValue(c, 'ads')).toBe(JSON.stringify([{ v: '2026-01-01' }]));
    expect(asked).toHaveLength(1);
    expect(asked[0].sql).toContain('{tenant:String}');
    expect(asked[0].sql).not.toContain('acme');
    expect(asked[0].params).toEqual({ tenant: 'acme' });
    expect(asked[0].options).toEqual({ signal, timeoutMs: 1234 });
    expect(engineTime(c)).toBe(7);
  });

  it('audits each check, failures included', async () => {
    const ok = setup();
    await ok.query.refreshKeyValue(ctx(principal('acme')), 'ads');
    expect(ok.audited).toEqual([
      expect.objectContaining({ tenantId: 'acme', door: 'live', queryFingerprint: 'refresh_key:ads', members: [], rows: 1, status: 'ok', requestId: 'rk-1' }),
    ]);
    const failing = setup(new EngineError('QUERY_TIMEOUT', 'too slow', 'SELECT', {}));
    await expect(failing.query.refreshKeyValue(ctx(principal('acme')), 'ads')).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
    expect(failing.audited).toEqual([expect.objectContaining({ queryFingerprint: 'refresh_key:ads', status: 'error', errorCode: 'QUERY_TIMEOUT' })]);
  });

  it('is undefined for a cube without refresh_key.sql, FORBIDDEN without metrics:read, NOT_FOUND for an unknown cube', async () => {
    const { query, asked } = setup();
    expect(await query.refreshKeyValue(ctx(principal('acme')), 'plain')).toBeUndefined();
    await expect(query.refreshKeyValue(ctx(principal('acme', [])), 'ads')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(query.refreshKeyValue(ctx(principal('acme')), 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(asked).toEqual([]);
  });
});
