/**
 * Bounded inputs and metadata-store outages through the real doors of `strata serve`, on a Postgres
 * cluster of this file's own (stopped and started here; never the shared server): oversized inputs
 * are coded 4xx (no more 500s), /metrics wants an operator token, and with Postgres stopped the
 * store's calls answer 503 STORE_UNAVAILABLE, then work again once it is back, with no restart.
 */
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { createThrowawayPostgres, type ThrowawayPostgres } from '../../helpers/throwaway-postgres.js';

let server: ServerProcess;
let db: ThrowawayPostgres;

beforeAll(async () => {
  db = await createThrowawayPostgres();
  server = await startServerProcess({ DATABASE_URL: db.url });
});

afterAll(async () => {
  await server?.stop();
  db?.remove();
});

const token = (tenantId: string, scopes: string[]) => mintDevToken(server.jwtSecret, { tenantId, scopes, expiresIn: '1h' });
const LEAF = '{"member":"ad_performance.platform","operator":"equals","values":["meta"]}';
const nestedFilter = (depth: number) => '{"or":['.repeat(depth) + LEAF + ']}'.repeat(depth);
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

async function post(path: string, body: string, credential: string, contentType = 'application/json') {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': contentType }, body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('bounded inputs', () => {
  it('refuses filters nested 5,000 deep with a coded 400 on REST and BAD_USER_INPUT on GraphQL', async () => {
    const t = await token('acme', ['metrics:read']);
    const rest = await post('/cubejs-api/v1/load', `{"query":{"measures":["ad_performance.clicks"],"filters":[${nestedFilter(5_000)}]}}`, t);
    expect(rest.status).toBe(400);
    expect(rest.body).toMatchObject({ code: 'BAD_USER_INPUT', details: { limit: 64 } });
    // Shallow enough for the JSON bound, too deep for the filter bound: the query's own rule answers.
    const restFilter = await post('/cubejs-api/v1/load', `{"query":{"measures":["ad_performance.clicks"],"filters":[${nestedFilter(20)}]}}`, t);
    expect(restFilter).toMatchObject({ status: 400, body: { code: 'BAD_USER_INPUT', details: { limit: 16 } } });

    const gql = await post(
      '/graphql',
      `{"query":"query($q: JSON!) { query(query: $q) { data } }","variables":{"q":{"measures":["ad_performance.clicks"],"filters":[${nestedFilter(5_000)}]}}}`,
      t,
    );
    expect(gql.status).toBe(400);
    expect(gql.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 64 });
  });

  it('refuses GraphQL variables and NDJSON lines nested 10,000 deep (HTTP and WebSocket)', async () => {
    const t = await token('acme', ['metrics:read', 'ingest:write']);
    const gql = await post('/graphql', `{"query":"{ __typename }","variables":{"q":${deepObject(10_000)}}}`, t);
    expect(gql.status).toBe(400);
    expect(gql.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const ndjson = await post('/v1/ingest/ad_performance', `{"date":${deepObject(10_000)}}\n`, t, 'application/x-ndjson');
    expect(ndjson).toMatchObject({ status: 400, body: { code: 'BAD_USER_INPUT' } });

    let v: unknown = 1;
    for (let i = 0; i < 1_000; i++) v = [v];
    const client = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t}` },
      retryAttempts: 0,
    });
    const errors = await new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: 'subscription($q: JSON!) { live(query: $q) { data } }', variables: { q: v } },
        { next: resolve, error: resolve, complete() {} },
      ),
    );
    expect(JSON.stringify(errors)).toContain('BAD_USER_INPUT');
    await client.dispose();
  });

  it('refuses an `in` filter with 100,000 values with a coded 400', async () => {
    const t = await token('acme', ['metrics:read']);
    const values = Array.from({ length: 100_000 }, (_, i) => `v${i}`);
    const rest = await post(
      '/cubejs-api/v1/load',
      JSON.stringify({ query: { measures: ['ad_performance.clicks'], filters: [{ member: 'ad_performance.platform', operator: 'equals', values }] } }),
      t,
    );
    expect(rest).toMatchObject({ status: 400, body: { code: 'BAD_USER_INPUT', details: { limit: 10_000 } } });
    const gql = await post(
      '/graphql',
      JSON.stringify({ query: 'query($v: [String!]!) { adPerformance(where: {platform: {in: $v}}) { clicks } }', variables: { v: values } }),
      t,
    );
    expect(gql.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 10_000 });
  });

  it('serves /metrics to operator tokens only', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const tenantToken = await token('acme', ['metrics:read', 'audit:read']);
    const forbidden = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${tenantToken}` } });
    expect(forbidden.status).toBe(403);
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${await token('acme', ['platform:metrics'])}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('strata_');
  });
});

describe('metadata store outage', () => {
  it('answers 503 STORE_UNAVAILABLE while Postgres is stopped and recovers by itself when it is back', async () => {
    const acme = await token('acme', ['metrics:read', 'dashboards:write']);
    const list = () => post('/graphql', '{"query":"{ dashboards { id } }"}', acme);
    expect((await list()).status).toBe(200);

    db.stop();
    try {
      const down = await list();
      expect(down.status).toBe(503);
      expect(down.body.errors[0].extensions.code).toBe('STORE_UNAVAILABLE');
      // A tenant this instance has not seen yet cannot be admitted: 503 at the edge, on every door.
      const unseen = await post('/cubejs-api/v1/load', '{"query":{"measures":["ad_performance.clicks"]}}', await token('globex', ['metrics:read']));
      expect(unseen).toMatchObject({ status: 503, body: { code: 'STORE_UNAVAILABLE' } });
      const sql = new pg.Client({
        host: '127.0.0.1',
        port: server.sqlProxyPort,
        user: 'bi',
        database: 'strata',
        password: await token('initech', ['metrics:read']),
      });
      await expect(sql.connect()).rejects.toMatchObject({ code: '57P03' });
    } finally {
      db.start();
    }
    const up = await list();
    expect(up.status).toBe(200);
    expect(up.body.data).toEqual({ dashboards: [] });
  });
});
