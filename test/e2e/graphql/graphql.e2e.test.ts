/**
 * GraphQL door end to end: `strata serve` runs as a child process; the test calls it through the
 * generated graphql-request SDK (src/sdk) with JWTs minted here with jose. Expected numbers come
 * from an independent warehouse in this process, seeded with the same deterministic generator
 * (same seed and scale as the server), queried with hand-written SQL.
 */
import { GraphQLClient, type ClientError } from 'graphql-request';
import { SignJWT, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSdk } from '../../../src/sdk/index.js';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/clickhouse.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;
let wh: TestWarehouse;
const DATE_RANGE = ['2026-09-01', '2026-10-31'];

async function token(
  claims: Record<string, unknown>,
  options: { exp?: number | string; nbf?: number | string; alg?: string; secret?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setSubject('e2e');
  if (options.exp !== undefined) jwt.setExpirationTime(options.exp);
  else jwt.setExpirationTime('10m');
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? server.jwtSecret));
}

const analyst = (tenant: string) => token({ tenant_id: tenant, scope: 'metrics:read finance:read clients:read' });

function sdkFor(tok: string, bare = false) {
  return getSdk(new GraphQLClient(`${server.url}/graphql`, { headers: { authorization: bare ? tok : `Bearer ${tok}` } }));
}

async function rawGraphQL(auth: string | undefined, query: string, variables?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth !== undefined ? { authorization: auth } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.json() };
}

async function clickhouseQueries(): Promise<number> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${await token({ tenant_id: 'acme', scope: 'platform:metrics' })}` } })
  ).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('strata_clickhouse_queries_total'))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

async function sql<T = Record<string, unknown>>(text: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await wh.engine.query<T>(text, params)).rows;
}

const close = (a: number | null | undefined, b: number) => expect(a ?? NaN).toBeCloseTo(b, 6);

beforeAll(async () => {
  [server, wh] = await Promise.all([startServerProcess(), createTestWarehouse({ seed: true, scale: 0.05 })]);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await wh?.close();
});

describe('typed root fields through the generated SDK', () => {
  it('returns the same numbers as hand-written SQL over the same deterministic data', async () => {
    const res = await sdkFor(await analyst('acme')).AdPerformanceByPlatform({ dateRange: DATE_RANGE });
    const expected = await sql<{ platform: string; day: string; impressions: number; clicks: number; cost: number }>(
      `SELECT platform, toString(date) AS day, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost) AS cost
         FROM ad_performance WHERE tenant_id = 'acme' AND date BETWEEN '2026-09-01' AND '2026-10-31'
         GROUP BY platform, date`,
    );
    const rows = res.adPerformance ?? [];
    expect(rows.length).toBe(expected.length);
    expect(rows.length).toBeGreaterThan(50);
    const byKey = new Map(expected.map((e) => [`${e.platform}|${e.day}`, e]));
    for (const r of rows) {
      const e = byKey.get(`${r.platform}|${r.day!.slice(0, 10)}`)!;
      expect(e, `${r.platform} ${r.day}`).toBeDefined();
      expect(r.day).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000$/);
      expect(r.impressions).toBe(Number(e.impressions));
      expect(r.clicks).toBe(Number(e.clicks));
      close(r.spend, Number(e.cost));
      close(r.ctr, e.impressions > 0 ? (100 * Number(e.clicks)) / Number(e.impressions) : NaN);
    }
  });

  it('answers 8 root fields over the same cube and filters with ONE ClickHouse query, each right', async () => {
    const sdk = sdkFor(await analyst('globex'));
    const before = await clickhouseQueries();
    const res = await sdk.OverviewTiles({ dateRange: ['2026-08-01', '2026-08-31'] });
    const after = await clickhouseQueries();
    expect(after - before).toBe(1);
    const [e] = await sql<Record<string, number>>(
      `SELECT sum(impressions) i, sum(clicks) c, sum(cost) s, sum(conversions) v, sum(conversion_value) cv FROM ad_performance
        WHERE tenant_id = 'globex' AND platform = 'google_ads' AND date BETWEEN '2026-08-01' AND '2026-08-31'`,
    );
    const pick = <T extends { platform: string | null }>(rows: T[] | null) => rows!.find((r) => r.platform === 'google_ads')!;
    expect(pick(res.impressions).impressions).toBe(Number(e.i));
    expect(pick(res.clicks).clicks).toBe(Number(e.c));
    close(pick(res.cost).cost, Number(e.s));
    close(pick(res.ctr).ctr, (100 * e.c) / e.i);
    close(pick(res.cpc).cpc, e.s / e.c);
    close(pick(res.cpa).cpa, e.s / e.v);
    close(pick(res.roas).roas, e.cv / e.s);
  });

  it('serves the generic query with annotations, equal to the typed field', async () => {
    const res = await sdkFor(await analyst('initech')).RunQuery({
      query: {
        measures: ['ad_performance.clicks', 'ad_performance.cpa'],
        dimensions: ['ad_performance.platform'],
        timeDimensions: [{ dimension: 'ad_performance.date', dateRange: DATE_RANGE }],
      },
    });
    const expected = await sql<{ platform: string; clicks: number; cpa: number }>(
      `SELECT platform, sum(clicks) clicks, sum(cost) / nullIf(sum(conversions), 0) cpa FROM ad_performance
        WHERE tenant_id = 'initech' AND date BETWEEN '2026-09-01' AND '2026-10-31' GROUP BY platform`,
    );
    const data = res.query!.data as Record<string, number | string>[];
    expect(data.length).toBe(expected.length);
    for (const e of expected) {
      const row = data.find((d) => d['ad_performance.platform'] === e.platform)!;
      expect(row['ad_performance.clicks']).toBe(Number(e.clicks));
      close(row['ad_performance.cpa'] as number, Number(e.cpa));
    }
    const cpa = res.query!.annotation.find((a) => a.member === 'ad_performance.cpa')!;
    expect(cpa).toMatchObject({ kind: 'measure', type: 'number', format: 'currency' });
  });
});

describe('tenant isolation', () => {
  it("no generated root field and no generic query returns another tenant's rows", async () => {
    for (const tenant of ['acme', 'globex', 'initech']) {
      const tok = await analyst(tenant);
      const { body } = await rawGraphQL(
        `Bearer ${tok}`,
        '{ catalog { cubes { name kind graphqlField dimensions { name graphqlName type path } measures { graphqlName path aggType } } } }',
      );
      const cubes = body.data.catalog.cubes as {
        name: string;
        graphqlField: string;
        dimensions: { graphqlName: string; type: string; path: string; name: string }[];
        measures: { graphqlName: string; path: string; aggType: string }[];
      }[];
      expect(cubes.length).toBeGreaterThan(5);
      for (const cube of cubes) {
        const idDims = cube.dimensions.filter((d) => d.type === 'string' && /(^|_)id$/.test(d.name));
        const measure = cube.measures.find((m) => m.aggType === 'count') ?? cube.measures[0];
        if (idDims.length === 0 || !measure) continue;
        const selection = [...idDims.map((d) => d.graphqlName), measure.graphqlName].join(' ');
        const typed = await rawGraphQL(`Bearer ${tok}`, `{ rows: ${cube.graphqlField}(limit: 500) { ${selection} } }`);
        expect(typed.body.errors, `${cube.name}: ${JSON.stringify(typed.body.errors)}`).toBeUndefined();
        const generic = await rawGraphQL(`Bearer ${tok}`, 'query($q: JSON!) { query(query: $q) { data } }', {
          q: { measures: [measure.path], dimensions: idDims.map((d) => d.path), limit: 500 },
        });
        expect(generic.body.errors).toBeUndefined();
        const values = [
          ...typed.body.data.rows.flatMap((r: Record<string, unknown>) => idDims.map((d) => r[d.graphqlName])),
          ...generic.body.data.query.data.flatMap((r: Record<string, unknown>) => idDims.map((d) => r[d.path])),
        ].filter((v) => v !== null && v !== '');
        for (const v of values) expect(String(v), `${cube.name} as ${tenant}`).toMatch(new RegExp(`^${tenant}-`));
      }
    }
  });

  it('has no argument that could change the tenant', async () => {
    const tok = await analyst('acme');
    const r = await rawGraphQL(`Bearer ${tok}`, '{ adPerformance(tenant: "globex") { clicks } }');
    expect(r.body.errors[0].message).toMatch(/Unknown argument "tenant"/);
  });
});

describe('authorization per field', () => {
  it('a viewer without finance:read gets FORBIDDEN on cost while clicks still answer', async () => {
    const viewer = await token({ tenant_id: 'acme', roles: ['viewer'] });
    try {
      await sdkFor(viewer).AdPerformanceByPlatform({ dateRange: DATE_RANGE });
      expect.unreachable('expected a partial error');
    } catch (e) {
      const err = e as ClientError;
      const rows = (err.response.data as { adPerformance: { clicks: number; spend: number | null }[] }).adPerformance;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => typeof r.clicks === 'number' && r.spend === null)).toBe(true);
      const forbidden = err.response.errors!.filter((x) => x.extensions?.code === 'FORBIDDEN');
      expect(forbidden.length).toBeGreaterThan(0);
      expect(forbidden[0].message).toMatch(/finance:read/);
    }
  });

  it('the generic query refuses a finance member for a viewer, naming the member and scope', async () => {
    const viewer = await token({ tenant_id: 'acme', scope: 'metrics:read' });
    const r = await rawGraphQL(`Bearer ${viewer}`, 'query($q: JSON!) { query(query: $q) { data } }', { q: { measures: ['ad_performance.cpa'] } });
    expect(r.status).toBe(200);
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(r.body.errors[0].message).toMatch(/ad_performance\.cpa.*finance:read/);
  });

  it('unknown members get BAD_USER_INPUT with a suggestion', async () => {
    const r = await rawGraphQL(`Bearer ${await analyst('acme')}`, 'query($q: JSON!) { query(query: $q) { data } }', {
      q: { measures: ['ad_performance.clik'] },
    });
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', member: 'ad_performance.clik', suggestion: 'ad_performance.clicks' });
  });
});

describe('authentication failures are HTTP 401 with a clear message', () => {
  const q = '{ catalog { cubes { name } } }';
  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ['missing', async () => undefined, /missing/i],
    ['expired', async () => `Bearer ${await token({ tenant_id: 'acme', scope: 'metrics:read' }, { exp: Math.floor(Date.now() / 1000) - 3600 })}`, /expired/i],
    [
      'not yet valid',
      async () => `Bearer ${await token({ tenant_id: 'acme', scope: 'metrics:read' }, { nbf: Math.floor(Date.now() / 1000) + 3600 })}`,
      /not (yet )?(valid|active)|nbf/i,
    ],
    [
      'bad signature',
      async () => `Bearer ${await token({ tenant_id: 'acme', scope: 'metrics:read' }, { secret: 'another-secret-another-secret-123' })}`,
      /signature/i,
    ],
    ['wrong algorithm', async () => `Bearer ${await token({ tenant_id: 'acme', scope: 'metrics:read' }, { alg: 'HS512' })}`, /alg/i],
    [
      'alg none',
      async () => {
        const enc = (o: object) => base64url.encode(JSON.stringify(o));
        return `Bearer ${enc({ alg: 'none', typ: 'JWT' })}.${enc({ tenant_id: 'acme', scope: 'metrics:read', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
      },
      /alg/i,
    ],
    ['garbage', async () => 'Bearer not-a-jwt', /malformed|invalid/i],
    ['no tenant', async () => `Bearer ${await token({ scope: 'metrics:read' })}`, /tenant_id/],
  ];
  for (const [name, auth, message] of cases) {
    it(name, async () => {
      const r = await rawGraphQL(await auth(), q);
      expect(r.status).toBe(401);
      expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(r.body.errors[0].message).toMatch(message);
    });
  }

  it('accepts a bare token as well as Bearer', async () => {
    const tok = await analyst('acme');
    const res = await sdkFor(tok, true).Catalog();
    expect(res.catalog!.cubes.length).toBeGreaterThan(0);
  });

  it('never logs tokens', () => {
    expect(server.output()).not.toMatch(/eyJhbGciOi/);
  });
});

describe('the catalog is enough for an agent', () => {
  it('finds "cost per acquisition by platform last month" by names and descriptions and gets the right number', async () => {
    const sdk = sdkFor(await analyst('acme'));
    const { catalog } = await sdk.Catalog();
    const words = (s: string | null | undefined) => (s ?? '').toLowerCase();
    // The "agent": score measures by how much of the question their title/description covers.
    const question = ['cost', 'per', 'acquisition'];
    const candidates = catalog!.cubes.filter((c) => c.kind === 'cube').flatMap((c) => c.measures.map((m) => ({ cube: c, m })));
    const scored = candidates
      .map(({ cube, m }) => ({
        cube,
        m,
        score:
          question.filter((w) => words(`${m.title} ${m.description}`).includes(w)).length +
          (words(m.title).includes('cost per acquisition') || words(m.description).includes('cost per acquisition') ? 3 : 0),
      }))
      .sort((a, b) => b.score - a.score);
    const { cube, m } = scored[0];
    const platform = cube.dimensions.find((d) => d.name === 'platform' || words(d.title).includes('platform'))!;
    const time = cube.dimensions.find((d) => d.type === 'time')!;
    expect(m.path).toBe('ad_performance.cpa');
    expect(platform.path).toBe('ad_performance.platform');

    const res = await sdk.RunQuery({
      query: { measures: [m.path], dimensions: [platform.path], timeDimensions: [{ dimension: time.path, dateRange: 'last month' }] },
    });
    const now = new Date();
    const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const expected = await sql<{ platform: string; cpa: number }>(
      `SELECT platform, sum(cost) / nullIf(sum(conversions), 0) AS cpa FROM ad_performance
        WHERE tenant_id = 'acme' AND date BETWEEN {from:Date} AND {to:Date} GROUP BY platform`,
      { from: iso(first), to: iso(last) },
    );
    const data = res.query!.data as Record<string, number | string>[];
    expect(data.length).toBe(expected.length);
    for (const e of expected) close(data.find((d) => d['ad_performance.platform'] === e.platform)!['ad_performance.cpa'] as number, Number(e.cpa));
  });
});

describe('operations', () => {
  it('says in Server-Timing how long the request spent in ClickHouse and in the server', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await analyst('globex')}` },
      body: JSON.stringify({ query: '{ adPerformance(where: {platform: {equals: "meta"}}) { device clicks } }' }),
    });
    expect(res.status).toBe(200);
    const m = /^engine;dur=([\d.]+), total;dur=([\d.]+)$/.exec(res.headers.get('server-timing') ?? '');
    expect(m).not.toBeNull();
    const [engine, total] = [Number(m![1]), Number(m![2])];
    expect(engine).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(engine);
  });

  it('refuses a body over the limit with 413 and a code, and still serves the next request on the connection', async () => {
    const auth = `Bearer ${await analyst('acme')}`;
    const big = await rawGraphQL(auth, `{ __typename }`, { pad: 'x'.repeat(1_100_000) });
    expect(big).toEqual({ status: 413, body: { errors: [{ message: 'the request body exceeds 1048576 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] } });
    expect(await rawGraphQL(auth, '{ __typename }')).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('exposes health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ready = await (await fetch(`${server.url}/ready`)).json();
    expect(ready).toMatchObject({ status: 'ready', clickhouse: true, postgres: true });
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${await token({ tenant_id: 'acme', scope: 'platform:metrics' })}` } })
    ).text();
    expect(metrics).toMatch(/strata_requests_total\{door="graphql"/);
    expect(metrics).toMatch(/strata_semantic_queries_total\{outcome="merged"\} [1-9]/);
  });
});
