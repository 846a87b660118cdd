/**
 * Strata Studio's door: GET /studio (the page), /studio/assets/<hashed name> (its script and styles,
 * built at install: no CDN), and in development GET /studio/dev-sessions (the demo tenants with a
 * token each, for the one-click sign-in). The page itself holds no credential and no data: it calls
 * the GraphQL API like any client, with the token the person gives it, kept in sessionStorage.
 */
import { jsonResponse } from '../edge/http.js';
import { type StudioBuild, studioBuild } from './assets.js';

export const STUDIO_PATH = '/studio';
const ASSETS_PREFIX = `${STUDIO_PATH}/assets/`;

export interface DevSession {
  readonly tenantId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly token: string;
}

export interface StudioOptions {
  /** Development only: demo tenants with fresh tokens. Absent elsewhere: the route answers 404. */
  readonly devSessions?: () => Promise<readonly DevSession[]>;
}

/** Everything the page loads comes from this server; it talks only to this origin (ws included). */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function studioPage(build: StudioBuild | null): string {
  const body = build
    ? `<div id="studio"><p style="padding:16px">Loading Strata Studio…</p></div>
    <noscript>Strata Studio needs JavaScript. The API works without it: /graphql, /cubejs-api/v1.</noscript>
    <script type="module" src="${ASSETS_PREFIX}${escapeHtml(build.js)}"></script>`
    : `<main style="max-width:640px;margin:40px auto;font-family:system-ui,sans-serif">
      <h1>Strata Studio is not built</h1>
      <p>Its bundle is made when the project is installed. Build it with <code>npm run build:studio</code> and reload this page.</p>
    </main>`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Strata Studio</title>
    <link rel="icon" href="data:," />
    ${build ? `<link rel="stylesheet" href="${ASSETS_PREFIX}${escapeHtml(build.css)}" />` : ''}
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}

const notFound = (what: string): Response => jsonResponse(404, { error: `no Studio ${what}`, code: 'NOT_FOUND' });

export function createStudioHandler(options: StudioOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return jsonResponse(405, { error: 'use GET', code: 'BAD_USER_INPUT' }, { allow: 'GET, HEAD' });
    }
    if (pathname === STUDIO_PATH || pathname === `${STUDIO_PATH}/`) {
      const build = await studioBuild();
      return new Response(request.method === 'HEAD' ? null : studioPage(build), {
        status: build ? 200 : 503,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
          'content-security-policy': CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        },
      });
    }
    if (pathname === `${STUDIO_PATH}/dev-sessions`) {
      if (!options.devSessions) return notFound('dev sessions (development only)');
      return jsonResponse(200, { sessions: await options.devSessions() }, { 'cache-control': 'no-store' });
    }
    if (pathname.startsWith(ASSETS_PREFIX)) {
      const asset = (await studioBuild())?.files.get(pathname.slice(ASSETS_PREFIX.length));
      if (!asset) return notFound(`asset ${pathname}`);
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        etag: asset.etag,
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
      };
      if (request.headers.get('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
      const gz = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
      const body = gz ? asset.gzipped : asset.body;
      if (gz) headers['content-encoding'] = 'gzip';
      headers['content-length'] = String(body.length);
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
    }
    return notFound(`page ${pathname}`);
  };
}
