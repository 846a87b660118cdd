/** The Studio door (src/studio/http.ts): page, assets, development sessions, and bad requests. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createStudioHandler, studioPage } from '../../../src/studio/http.js';

execFileSync(process.execPath, ['scripts/build-studio.mjs', '--check'], { stdio: 'pipe' });
const handler = createStudioHandler({});
const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => handler(new Request(`http://strata.test${path}`, { method, headers }));

describe('Studio door', () => {
  it('serves the page with a strict CSP, loading only its own hashed assets', async () => {
    const res = await get('/studio');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    const html = await res.text();
    const js = /src="(\/studio\/assets\/studio\.[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/studio\/assets\/studio\.[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();
    const script = await get(js!, { 'accept-encoding': 'gzip' });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-encoding')).toBe('gzip');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect((await get(js!, { 'if-none-match': script.headers.get('etag')! })).status).toBe(304);
    expect((await get(css!)).headers.get('content-type')).toContain('text/css');
  });

  it('refuses what it does not serve with a coded error', async () => {
    const missing = await get('/studio/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await get('/studio/dev-sessions')).status).toBe(404); // not development: no demo sign-in
    const post = await get('/studio', {}, 'POST');
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('says how to build it when the bundle is missing', () => {
    expect(studioPage(null)).toContain('npm run build:studio');
  });

  it('hands out development sessions only when given them', async () => {
    const dev = createStudioHandler({ devSessions: async () => [{ tenantId: 'acme', name: 'Acme', roles: ['analyst'], token: 't' }] });
    const res = await dev(new Request('http://strata.test/studio/dev-sessions'));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ sessions: [{ tenantId: 'acme', name: 'Acme', roles: ['analyst'], token: 't' }] });
  });
});
