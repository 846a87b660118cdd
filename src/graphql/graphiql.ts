/**
 * GraphiQL served by Strata itself. The page yoga would render loads GraphiQL's script, stylesheet and
 * editor workers from a public CDN and its favicon from GitHub, so with no route to the internet it never
 * renders. Here the page is ours and every file it loads comes from this server, under
 * GRAPHIQL_ASSETS_PATH: the build shipped as strings by @graphql-yoga/render-graphiql (the same version as
 * graphql-yoga; a unit test keeps them equal), fonts and images already inlined in its CSS.
 *
 * Enabled by config.graphiql.enabled (development by default). In development only, the page opens signed
 * in as a demo tenant (a development token minted with the configured JWT secret) with a first query that
 * returns data; never in production.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';
import { mintDevToken } from '../auth/jwt.js';
import type { Config } from '../config.js';

/** Where GraphiQL's files are served (outside /graphql, which the HTTP server hands to yoga). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets';

/** The demo tenant GraphiQL signs in as in development (the first of src/demo/tenants.ts). */
export const GRAPHIQL_DEV_TENANT = 'acme';
export const GRAPHIQL_DEV_ROLES: readonly string[] = ['analyst'];
const DEV_TOKEN_LIFETIME_S = 12 * 3600;
/** A fresh token once the one handed out is this old, so a page opened late still gets hours of use. */
const DEV_TOKEN_RENEW_AFTER_MS = 3600_000;

export const GRAPHIQL_TITLE = 'Strata GraphiQL';

/** The first query of a development GraphiQL: data of the last 30 days, which the demo data always has. */
export function defaultGraphiQLQuery(tenantId: string, roles: readonly string[]): string {
  return `# Signed in as demo tenant "${tenantId}", role ${roles.join(', ')}
# (the Authorization header under Headers below).
# Another tenant or role: put another token there,
#   npx strata token --tenant globex --roles viewer
# or one from the server banner. Run: Ctrl-Enter.
query AdSpendByPlatform {
  adPerformance(
    where: { date: { inDateRange: "last 30 days" } }
    orderBy: [{ cost: DESC }]
  ) {
    platform
    impressions
    clicks
    ctr
    cost
    cpa
  }
}
`;
}

// ---- assets ---------------------------------------------------------------------------------------

interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
  gzipped?: Promise<Uint8Array<ArrayBuffer>>;
}

interface AssetSet {
  readonly byName: ReadonlyMap<string, Asset>;
  /** Logical name (graphiql.js, editorWorkerService, ...) -> URL path. */
  readonly urls: Readonly<Record<'js' | 'css' | 'favicon' | 'editorWorkerService' | 'json' | 'graphql', string>>;
}

let assetsPromise: Promise<AssetSet> | undefined;

/** GraphiQL's build, loaded on first use (9 MB of strings: a server without GraphiQL never loads it). */
function graphiqlAssets(): Promise<AssetSet> {
  assetsPromise ??= import('@graphql-yoga/render-graphiql/graphiql').then((build) => {
    const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(build.favicon);
    const files: [key: keyof AssetSet['urls'], base: string, ext: string, type: string, body: Uint8Array<ArrayBuffer>][] = [
      ['js', 'graphiql', 'js', 'text/javascript; charset=utf-8', Buffer.from(build.js)],
      ['css', 'graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(build.css)],
      ['editorWorkerService', 'editor.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(build.editorWorkerService)],
      ['json', 'json.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(build.jsonWorker)],
      ['graphql', 'graphql.worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(build.graphqlWorker)],
      ['favicon', 'favicon', 'ico', favicon?.[1] ?? 'image/x-icon', Buffer.from(favicon?.[2] ?? '', 'base64')],
    ];
    const byName = new Map<string, Asset>();
    const urls = {} as Record<keyof AssetSet['urls'], string>;
    for (const [key, base, ext, type, body] of files) {
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      // Content-hashed names: cached for good by browsers, never stale after an upgrade.
      const name = `${base}.${hash}.${ext}`;
      byName.set(name, { name, type, body, etag: `"${hash}"` });
      urls[key] = `${GRAPHIQL_ASSETS_PATH}/${name}`;
    }
    return { byName, urls };
  });
  return assetsPromise;
}

const gzipAsync = promisify(gzip) as (data: Uint8Array) => Promise<Uint8Array<ArrayBuffer>>;

/**
 * GET GRAPHIQL_ASSETS_PATH/<name>: one of GraphiQL's files (gzip when accepted, immutable caching).
 * The HTTP server routes here only when GraphiQL is enabled.
 */
export async function serveGraphiQLAsset(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const asset = pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`)
    ? (await graphiqlAssets()).byName.get(pathname.slice(GRAPHIQL_ASSETS_PATH.length + 1))
    : undefined;
  const plain = { 'content-type': 'application/json' };
  if (!asset) return new Response(JSON.stringify({ error: `no GraphiQL asset ${pathname}`, code: 'NOT_FOUND' }), { status: 404, headers: plain });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(JSON.stringify({ error: 'use GET', code: 'BAD_USER_INPUT' }), { status: 405, headers: { ...plain, allow: 'GET, HEAD' } });
  }
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': 'public, max-age=31536000, immutable',
    etag: asset.etag,
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
  };
  if (request.headers.get('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
  let body = asset.body;
  if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '') && body.length > 1024) {
    asset.gzipped ??= gzipAsync(body);
    body = await asset.gzipped;
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.length);
  return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
}

// ---- the page -------------------------------------------------------------------------------------

/** JSON that is safe inside an inline <script> (no `</script>`, no line separators). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the page needs besides yoga's GraphiQL options: the development token it was signed in with. */
interface StrataGraphiQLOptions extends GraphiQLOptions {
  readonly strataDevToken?: string;
}

/**
 * yoga's `renderGraphiQL`: GraphiQL's page with every file from this server. When the page carries a
 * development token, tabs a browser kept from an earlier start (with an older token) get the new one.
 */
export async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const { urls } = await graphiqlAssets();
  const { strataDevToken, ...graphiql } = options as StrataGraphiQLOptions;
  const title = graphiql.title ?? GRAPHIQL_TITLE;
  const workers = { editorWorkerService: urls.editorWorkerService, json: urls.json, graphql: urls.graphql };
  const renewToken = strataDevToken
    ? `(function (token) {
        try {
          var key = 'strata:graphiql:dev-token', previous = localStorage.getItem(key);
          if (previous && previous !== token) {
            for (var i = 0; i < localStorage.length; i++) {
              var k = localStorage.key(i), v = k && k.indexOf('graphiql:') === 0 ? localStorage.getItem(k) : null;
              if (v && v.indexOf(previous) >= 0) localStorage.setItem(k, v.split(previous).join(token));
            }
          }
          localStorage.setItem(key, token);
        } catch (e) {}
      })(${scriptJson(strataDevToken)});`
    : '';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="${urls.favicon}" />
    <link rel="stylesheet" href="${urls.css}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to use GraphiQL.</noscript>
    <div id="root">Loading ${escapeHtml(title)}…</div>
    <script>
      var workers = ${scriptJson(workers)};
      self.MonacoEnvironment = {
        globalAPI: false,
        getWorkerUrl: function (moduleId, label) { return workers[label] || workers.editorWorkerService; },
      };
      ${renewToken}
    </script>
    <script src="${urls.js}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), ${scriptJson(graphiql)});
    </script>
  </body>
</html>
`;
}

/**
 * yoga's `graphiql` option: false when disabled; otherwise the options of each page. In development
 * (with a JWT secret) a page opens signed in as GRAPHIQL_DEV_TENANT with a first query; elsewhere with
 * an Authorization template to fill in.
 */
export function graphiqlOptions(config: Config): false | (() => Promise<GraphiQLOptions>) {
  if (!config.graphiql.enabled) return false;
  const base: GraphiQLOptions = { title: GRAPHIQL_TITLE };
  const secret = config.auth.jwtSecret;
  if (config.env !== 'development' || !secret) {
    return async () => ({ ...base, headers: JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2) });
  }
  let minted: { token: Promise<string>; at: number } | undefined;
  const devToken = (): Promise<string> => {
    if (!minted || Date.now() - minted.at > DEV_TOKEN_RENEW_AFTER_MS) {
      const token = mintDevToken(secret, {
        tenantId: GRAPHIQL_DEV_TENANT,
        roles: GRAPHIQL_DEV_ROLES,
        expiresIn: DEV_TOKEN_LIFETIME_S,
        subject: `dev-${GRAPHIQL_DEV_TENANT}`,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      });
      minted = { token, at: Date.now() };
    }
    return minted.token;
  };
  void devToken().catch(() => undefined); // minted at start; a failure surfaces on the first page
  return async () => {
    const token = await devToken();
    const options: StrataGraphiQLOptions = {
      ...base,
      headers: JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
      defaultQuery: defaultGraphiQLQuery(GRAPHIQL_DEV_TENANT, GRAPHIQL_DEV_ROLES),
      strataDevToken: token,
    };
    return options;
  };
}
