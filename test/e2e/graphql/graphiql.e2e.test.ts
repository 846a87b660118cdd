/**
 * GraphiQL in a real browser with no internet: `strata serve` (development) as a child process,
 * headless Chromium (Debian's `chromium`, driven by puppeteer-core; no browser download) with every
 * request to a host other than 127.0.0.1/localhost aborted by the test. The editor must render, the
 * default query run signed in as the demo tenant, and its rows show in the result pane; any request
 * to another host fails the test. Every HTML page the server answers keeps the same offline rule.
 *
 * Skips only when no chromium binary exists (.ci/run installs it). Set UPDATE_GRAPHIQL_SCREENSHOT=1
 * to write docs/graphiql.png (the README's screenshot) from this run.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineViolations } from '../../helpers/offline-page.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!CHROMIUM) console.warn('graphiql.e2e: SKIPPED: no chromium binary (apt-get install -y chromium, or set CHROMIUM_PATH)');

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

describe.skipIf(!CHROMIUM)('GraphiQL in headless Chromium, offline', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  /** Every request the page (or its workers) tried to send elsewhere. */
  const foreign: string[] = [];
  const failed: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const { default: puppeteer } = await import('puppeteer-core');
    [server, browser] = await Promise.all([
      // As a user runs it: development (GraphiQL on, signed in as the demo tenant), demo data up to yesterday.
      startServerProcess({ STRATA_ENV: 'development', SQL_PROXY_ENABLED: 'false', DEMO_END_DATE: '' }),
      puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: mkdtempSync(join(tmpdir(), 'strata-chromium-')),
        args: [
          '--no-sandbox',
          '--disable-dev-shm-usage',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          // The browser itself cannot resolve any other host either (belt and braces for the interception).
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
        ],
      }),
    ]);
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 860 });
    await page.setRequestInterception(true);
    page.on('request', (request: HTTPRequest) => {
      const url = new URL(request.url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL_HOSTS.has(url.hostname)) return void request.continue();
      foreign.push(request.url());
      void request.abort('blockedbyclient');
    });
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('pageerror', (e) => pageErrors.push(String((e as Error).message ?? e)));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('renders the editor, runs the default query signed in and shows rows, with no request off the machine', async () => {
    await page.goto(`${server.url}/graphql`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .monaco-editor', { timeout: 60_000 });
    // The default query is in the editor (Monaco renders lines as text spans).
    await page.waitForFunction(() => document.querySelector('.graphiql-query-editor')?.textContent?.includes('adPerformance'), { timeout: 30_000 });
    // (Monaco renders spaces as no-break spaces)
    const editorText = (await page.$eval('.graphiql-query-editor', (e) => e.textContent ?? '')).replace(/\u00a0/g, ' ');
    expect(editorText).toContain('Signed in as demo tenant "acme"');
    expect(editorText).toContain('inDateRange: "last 30 days"');

    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/graphql' && (r.request().postData() ?? '').includes('AdSpendByPlatform'),
      {
        timeout: 60_000,
      },
    );
    await page.click('.graphiql-execute-button');
    const response = await answered;
    expect(response.status()).toBe(200);
    const body = (await response.json()) as { data?: { adPerformance?: Record<string, unknown>[] }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    const rows = body.data?.adPerformance ?? [];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ platform: expect.any(String), clicks: expect.any(Number) });

    // The rows in the result pane.
    await page.waitForFunction(
      (platform: string) => document.querySelector('.graphiql-response')?.textContent?.includes(platform),
      { timeout: 30_000 },
      String(rows[0]!.platform),
    );
    const shown = await page.$eval('.graphiql-response', (e) => e.textContent ?? '');
    expect(shown).toContain('"adPerformance"');
    expect(shown).toContain('"clicks"');

    const shot = process.env.UPDATE_GRAPHIQL_SCREENSHOT ? 'docs/graphiql.png' : join(mkdtempSync(join(tmpdir(), 'strata-shot-')), 'graphiql.png');
    mkdirSync(dirname(shot), { recursive: true });
    await new Promise((r) => setTimeout(r, 500)); // let the result pane finish painting
    await page.screenshot({ path: shot as `${string}.png` });

    expect(pageErrors).toEqual([]);
    expect(foreign).toEqual([]);
    expect(failed).toEqual([]);
  });

  it('tabs a browser kept from an earlier start get the current development token', async () => {
    const OLD = 'eyJhbGciOiJIUzI1NiJ9.eyJvbGQiOnRydWV9.expired-from-an-earlier-start';
    const current = await page.evaluate((old: string) => {
      const token = localStorage.getItem('strata:graphiql:dev-token') ?? '';
      const tabs = localStorage.getItem('graphiql:tabState') ?? '';
      if (!token || !tabs.includes(token)) return '';
      // As if the tabs were saved while an older server's token was current.
      localStorage.setItem('graphiql:tabState', tabs.split(token).join(old));
      localStorage.setItem('strata:graphiql:dev-token', old);
      return token;
    }, OLD);
    expect(current).toMatch(/^eyJ/);
    await page.reload({ waitUntil: 'load', timeout: 60_000 });
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .monaco-editor', { timeout: 60_000 });
    const tabs = await page.evaluate(() => localStorage.getItem('graphiql:tabState') ?? '');
    expect(tabs).toContain(current);
    expect(tabs).not.toContain(OLD);

    // GraphiQL reopens the saved tab (and adds an empty one when the URL names no query): run the saved one.
    const tabButtons = await page.$$('.graphiql-tab-button');
    const titles = await Promise.all(tabButtons.map((b) => b.evaluate((e) => e.textContent ?? '')));
    const saved = titles.findIndex((t) => t.includes('AdSpendByPlatform'));
    expect(saved).toBeGreaterThanOrEqual(0);
    await tabButtons[saved]!.click();
    await page.waitForFunction(() => document.querySelector('.graphiql-query-editor')?.textContent?.includes('adPerformance'), { timeout: 30_000 });

    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/graphql' && (r.request().postData() ?? '').includes('AdSpendByPlatform'),
      {
        timeout: 60_000,
      },
    );
    await page.click('.graphiql-execute-button');
    const response = await answered;
    expect(response.status()).toBe(200);
    expect(((await response.json()) as { data?: { adPerformance?: unknown[] } }).data?.adPerformance?.length).toBeGreaterThan(0);
    expect(foreign).toEqual([]);
  });

  it('every HTML page the server answers loads nothing from another host', async () => {
    // Ask for HTML everywhere a browser might land; check each page that answers HTML.
    const paths = ['/', '/graphql', '/graphql/', '/cubejs-api/v1', '/health', '/ready', '/metrics', '/no-such-page'];
    let pages = 0;
    for (const path of paths) {
      const res = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
      await res.arrayBuffer();
      if (!(res.headers.get('content-type') ?? '').includes('text/html')) continue;
      pages++;
      expect(await offlineViolations(res.url, fetch), res.url).toEqual([]);
    }
    expect(pages).toBeGreaterThanOrEqual(2); // /graphql, and / redirecting to it
    expect(foreign).toEqual([]);
  });
});
