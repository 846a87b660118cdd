/**
 * GraphiQL in process: the page and its assets come from Strata (the offline rule), development opens
 * it signed in with a first query that fits the schema, other environments get no token, and it is
 * off outside development unless GRAPHIQL_ENABLED says otherwise.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { buildSchema as buildSdl, parse, validate } from 'graphql';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_DEV_TENANT, graphiqlOptions, renderGraphiQLPage, serveGraphiQLAsset } from '../../../src/graphql/graphiql.js';
import { createHarness } from './harness.js';
import { offlineViolations, pageResources, type FetchLike } from '../../helpers/offline-page.js';

const PAGE = 'http://localhost/graphql';

/** The page through yoga, its assets through the asset route, as the HTTP server routes them. */
function serverFetch(env: Record<string, string>): FetchLike {
  const h = createHarness(env);
  return async (url, init) => (new URL(url).pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`) ? serveGraphiQLAsset(new Request(url, init)) : h.fetch(url, init));
}

async function pageOptions(html: string): Promise<Record<string, any>> {
  const m = /renderYogaGraphiQL\(document\.getElementById\('root'\), (\{[\s\S]*?\})\);\n/.exec(html);
  if (!m) throw new Error('no GraphiQL options in the page');
  return JSON.parse(m[1]!);
}

describe('GraphiQL', () => {
  it('serves the page and every file it loads from Strata itself (offline rule)', async () => {
    const fetchFn = serverFetch({ STRATA_ENV: 'development' });
    expect(await offlineViolations(PAGE, fetchFn)).toEqual([]);
    const html = await (await fetchFn(PAGE, { headers: { accept: 'text/html' } })).text();
    const { scripts, stylesheets, loads } = pageResources(html);
    expect(scripts).toHaveLength(1);
    expect(stylesheets).toHaveLength(1);
    expect(loads.every((u) => u.startsWith(`${GRAPHIQL_ASSETS_PATH}/`))).toBe(true);
    // The editor workers are ours too.
    const workers = JSON.parse(/var workers = (\{[^\n]*\});/.exec(html)![1]!) as Record<string, string>;
    expect(Object.keys(workers).sort()).toEqual(['editorWorkerService', 'graphql', 'json']);
    for (const url of Object.values(workers)) {
      expect(url.startsWith(`${GRAPHIQL_ASSETS_PATH}/`)).toBe(true);
      expect((await fetchFn(`http://localhost${url}`)).status).toBe(200);
    }
  });

  it('the offline check catches a CDN page (yoga’s own renderer)', async () => {
    const yogaPage: FetchLike = async () =>
      new Response(
        '<html><head><link rel=icon href=https://raw.githubusercontent.com/x/favicon.ico><link rel="stylesheet" href="https://unpkg.com/x.css"></head><body><script>fetch("https://unpkg.com/w.js")</script><script src="/a.js"></script></body></html>',
        {
          headers: { 'content-type': 'text/html' },
        },
      );
    const problems = await offlineViolations(PAGE, yogaPage);
    expect(problems.join('\n')).toMatch(/raw\.githubusercontent\.com/);
    expect(problems.join('\n')).toMatch(/unpkg\.com\/x\.css/);
    expect(problems.join('\n')).toMatch(/unpkg\.com\/w\.js/);
  });

  it('opens signed in as a demo tenant with a first query that fits the schema, in development', async () => {
    const fetchFn = serverFetch({ STRATA_ENV: 'development' });
    const opts = await pageOptions(await (await fetchFn(PAGE, { headers: { accept: 'text/html' } })).text());
    const auth = JSON.parse(opts.headers).Authorization as string;
    const claims = decodeJwt(auth.replace(/^Bearer /, ''));
    expect(claims).toMatchObject({ tenant_id: 'acme', roles: ['analyst'] });
    expect(claims.exp! - claims.iat!).toBeGreaterThanOrEqual(3600);
    expect(DEMO_TENANT_IDS).toContain(GRAPHIQL_DEV_TENANT);

    const query = opts.defaultQuery as string;
    expect(query).toMatch(/^# Signed in as demo tenant "acme", role analyst/);
    expect(query).toContain('npx strata token --tenant');
    expect(query).toContain('"last 30 days"'); // relative: returns data whatever today is
    const schema = buildSdl(readFileSync('schema/schema.graphql', 'utf8'));
    expect(validate(schema, parse(query))).toEqual([]);
  });

  it('mints the development token once and reuses it', async () => {
    const factory = graphiqlOptions(loadConfig({ STRATA_ENV: 'development' }));
    expect(factory).not.toBe(false);
    const [a, b] = await Promise.all([(factory as () => Promise<any>)(), (factory as () => Promise<any>)()]);
    expect(a.headers).toBe(b.headers);
    expect(a.strataDevToken).toBeDefined();
    // the token is not one of yoga's options: the page keeps it out of GraphiQL's props
    const html = await renderGraphiQLPage(a);
    expect((await pageOptions(html)).strataDevToken).toBeUndefined();
    expect(html).toContain("'strata:graphiql:dev-token'");
  });

  it('is off in test and production unless enabled; enabled in production it carries no token', async () => {
    expect(graphiqlOptions(loadConfig({ STRATA_ENV: 'test' }))).toBe(false);
    expect(graphiqlOptions(loadConfig({ STRATA_ENV: 'production', JWT_SECRET: 'prod-secret-0123456789abcdef-0123456789abcdef' }))).toBe(false);
    expect(graphiqlOptions(loadConfig({ STRATA_ENV: 'development', GRAPHIQL_ENABLED: 'false' }))).toBe(false);
    const off = await serverFetch({})(PAGE, { headers: { accept: 'text/html' } });
    expect(off.headers.get('content-type') ?? '').not.toContain('text/html');

    const env = { STRATA_ENV: 'production', JWT_SECRET: 'prod-secret-0123456789abcdef-0123456789abcdef', GRAPHIQL_ENABLED: 'true' };
    const fetchFn = serverFetch(env);
    expect(await offlineViolations(PAGE, fetchFn)).toEqual([]);
    const html = await (await fetchFn(PAGE, { headers: { accept: 'text/html' } })).text();
    const opts = await pageOptions(html);
    expect(JSON.parse(opts.headers)).toEqual({ Authorization: 'Bearer <token>' });
    expect(opts.defaultQuery).toBeUndefined();
    expect(html).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT anywhere in the page
    expect(html).not.toContain('strata:graphiql:dev-token');
  });

  it('serves assets gzipped, cacheable for good, with 304 and 404', async () => {
    const fetchFn = serverFetch({ STRATA_ENV: 'development' });
    const html = await (await fetchFn(PAGE, { headers: { accept: 'text/html' } })).text();
    const js = pageResources(html).scripts[0]!;
    const plain = await serveGraphiQLAsset(new Request(`http://localhost${js}`));
    const body = Buffer.from(await plain.arrayBuffer());
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('cache-control')).toContain('immutable');
    expect(body.toString('utf8', 0, 200)).toContain('YogaGraphiQL');
    const zipped = await serveGraphiQLAsset(new Request(`http://localhost${js}`, { headers: { 'accept-encoding': 'gzip, br' } }));
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    const zbody = Buffer.from(await zipped.arrayBuffer());
    expect(zbody.length).toBeLessThan(body.length / 2);
    expect(gunzipSync(zbody).equals(body)).toBe(true);
    const again = await serveGraphiQLAsset(new Request(`http://localhost${js}`, { headers: { 'if-none-match': plain.headers.get('etag')! } }));
    expect(again.status).toBe(304);
    expect((await serveGraphiQLAsset(new Request(`http://localhost${GRAPHIQL_ASSETS_PATH}/nope.js`))).status).toBe(404);
    expect((await serveGraphiQLAsset(new Request(`http://localhost${js}`, { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it('uses the GraphiQL build of the installed graphql-yoga version', () => {
    const require = createRequire(import.meta.url);
    const yoga = require('graphql-yoga/package.json') as { version: string };
    const render = require('@graphql-yoga/render-graphiql/package.json') as { version: string };
    expect(render.version).toBe(yoga.version);
  });
});
