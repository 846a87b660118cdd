/**
 * Strata Studio in a real browser with no internet: the real server in this process (development,
 * demo data up to yesterday, SQL proxy on), the bundle built from studio/src by the project's own
 * build script, headless Chromium (Debian's, through puppeteer-core) with every request to another
 * host aborted. A person signs in as a demo tenant, builds "cost and ROAS by platform, last month vs
 * previous", and the numbers on the page equal the API and an independent ClickHouse computation; the
 * GraphQL, Cube REST and SQL the page shows answer the same through their doors; a dashboard opened
 * with a platform filter updates live after an ingest; a second tenant's session never sees the first.
 *
 * Skips only when no chromium binary exists (.ci/run installs it). UPDATE_STUDIO_SCREENSHOTS=1 writes
 * the README's screenshots (docs/studio-*.png) from this run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import pg from 'pg';
import type { Browser, BrowserContext, HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineViolations } from '../../helpers/offline-page.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!CHROMIUM) console.warn('studio.e2e: SKIPPED: no chromium binary (apt-get install -y chromium, or set CHROMIUM_PATH)');

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SCREENSHOTS = process.env.UPDATE_STUDIO_SCREENSHOTS === '1';
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

interface Cell {
  readonly member: string;
  readonly raw: string;
  readonly text: string;
}

/** A cell's raw value: '' is a measure the period has no row for (null in the API). */
const num = (raw: string): number | null => (raw === '' ? null : Number(raw));

/** "YYYY-MM-DD" of the first and last day of last month (UTC, the default query time zone). */
function lastMonth(now = new Date()): [string, string] {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

/** The month before the one starting at `from`. */
function previousMonth(from: string): [string, string] {
  return lastMonth(new Date(`${from}T12:00:00Z`));
}

describe.skipIf(!CHROMIUM)('Strata Studio in headless Chromium, offline', () => {
  let app: InProcessServer;
  let url: string;
  let browser: Browser;
  let page: Page;
  let other: BrowserContext;
  const foreign: string[] = [];
  const pageErrors: string[] = [];
  const tokens: Record<string, string> = {};

  const token = (tenant: string, sub: string, roles: string[], scope = ''): Promise<string> =>
    new SignJWT({ tenant_id: tenant, roles, ...(scope ? { scope } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(app.jwtSecret));

  async function gql<T>(tok: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: T; errors?: { message: string }[] };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  }

  /** Independent of Strata: the same question straight on ClickHouse (FINAL: upserted rows once). */
  async function oracleByPlatform(tenant: string, from: string, to: string): Promise<Map<string, { cost: number; roas: number }>> {
    const { rows } = await app.server.services.engine.query<{ platform: string; cost: number; value: number }>(
      `SELECT platform, sum(cost) AS cost, sum(conversion_value) AS value FROM ad_performance FINAL
       WHERE tenant_id = '${tenant}' AND date >= '${from}' AND date <= '${to}' GROUP BY platform`,
    );
    return new Map(rows.map((r) => [r.platform, { cost: Number(r.cost), roas: Number(r.value) / Number(r.cost) }]));
  }

  async function newPage(context: BrowserContext | Browser): Promise<Page> {
    const p = await context.newPage();
    await p.setViewport({ width: 1440, height: 900 });
    await p.setRequestInterception(true);
    p.on('request', (request: HTTPRequest) => {
      const u = new URL(request.url());
      if (u.protocol === 'data:' || u.protocol === 'blob:' || LOCAL_HOSTS.has(u.hostname)) return void request.continue();
      foreign.push(request.url());
      void request.abort('blockedbyclient');
    });
    p.on('pageerror', (e) => pageErrors.push(String((e as Error).message ?? e)));
    return p;
  }

  async function signIn(p: Page, tenant: string): Promise<void> {
    await p.goto(`${url}/`, { waitUntil: 'load', timeout: 60_000 });
    expect(new URL(p.url()).pathname).toBe('/studio');
    await p.waitForSelector(`button[data-tenant="${tenant}"]`, { timeout: 30_000 });
    await p.click(`button[data-tenant="${tenant}"]`);
    await p.waitForSelector('.cube-detail', { timeout: 60_000 });
  }

  async function setChecked(p: Page, value: string, on: boolean): Promise<void> {
    const box = await p.$(`input[type=checkbox][value="${value}"]`);
    expect(box, value).not.toBeNull();
    if ((await box!.evaluate((e) => (e as HTMLInputElement).checked)) !== on) await box!.click();
  }

  /** The builder: cost and ROAS by platform, last month vs the previous period, as a table. */
  async function buildCostAndRoas(p: Page): Promise<Cell[][]> {
    await p.click('nav a[href="#/build"]');
    await p.waitForSelector('select[name="cube"]');
    await p.select('select[name="cube"]', 'ad_performance');
    for (const m of ['ad_performance.cost', 'ad_performance.roas', 'ad_performance.platform']) await setChecked(p, m, true);
    for (const m of (await p.$$eval('fieldset.checks input:checked', (els) => els.map((e) => (e as HTMLInputElement).value))).filter(
      (v) => !['ad_performance.cost', 'ad_performance.roas', 'ad_performance.platform'].includes(v),
    )) {
      await setChecked(p, m, false);
    }
    await p.select('select[name="timeDimension"]', 'ad_performance.date');
    await p.select('select[name="granularity"]', '');
    await p.select('select[name="dateRange"]', 'last month');
    await p.select('select[name="compare"]', 'PREVIOUS_PERIOD');
    await p.click('form.controls button[type=submit]');
    await p.waitForSelector('.chart svg', { timeout: 60_000 });
    await p.click('label.seg:has(input[value="table"])');
    await p.waitForSelector('table.result tbody tr');
    return p.$$eval('table.result tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ member: td.dataset.member ?? '', raw: td.dataset.raw ?? '', text: td.textContent ?? '' }))),
    );
  }

  const codeOf = async (p: Page, tab: string): Promise<string> => {
    await p.click(`[role=tab][id="code-tab-${tab}"]`);
    await p.waitForSelector(`#code-panel[data-form="${tab}"]`);
    return p.$eval('#code-panel', (e) => e.textContent ?? '');
  };

  beforeAll(async () => {
    // The bundle from the sources under test, with the project's own build (as `npm ci` makes it).
    execFileSync(process.execPath, ['scripts/build-studio.mjs', '--check'], { stdio: 'pipe' });
    const { default: puppeteer } = await import('puppeteer-core');
    [app, browser] = await Promise.all([
      startInProcessServer('studio', {
        STRATA_ENV: 'development',
        DEMO_END_DATE: '',
        SQL_PROXY_ENABLED: 'true',
        SQL_PROXY_PORT: '0',
        SQL_PROXY_HOST: '127.0.0.1',
      }),
      puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: mkdtempSync(join(tmpdir(), 'strata-studio-chromium-')),
        args: [
          '--no-sandbox',
          '--disable-dev-shm-usage',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
        ],
      }),
    ]);
    url = app.server.url;
    tokens.acme = await token('acme', 'dev-acme', ['analyst']);
    tokens.globex = await token('globex', 'dev-globex', ['analyst']);
    tokens.ingest = await token('acme', 'loader', [], 'ingest:write');
    page = await newPage(browser);
    other = await browser.createBrowserContext();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('serves the page and its assets from this server only, and offers demo sign-in in development', async () => {
    expect(await offlineViolations(`${url}/studio`, fetch)).toEqual([]);
    const res = await fetch(`${url}/studio`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const dev = (await (await fetch(`${url}/studio/dev-sessions`)).json()) as { sessions: { tenantId: string }[] };
    expect(dev.sessions.map((s) => s.tenantId)).toEqual(['acme', 'globex', 'initech']);
  });

  it('builds cost and ROAS by platform, last month vs previous: the page equals the API and ClickHouse', async () => {
    await signIn(page, 'acme');
    if (SCREENSHOTS) {
      await page.type('#catalog-search', 'roas');
      await page.screenshot({ path: 'docs/studio-explore.png' });
    }
    const rows = await buildCostAndRoas(page);
    if (SCREENSHOTS) {
      await page.click('label.seg:has(input[value="bar"])');
      await page.waitForSelector('.chart svg');
      await page.screenshot({ path: 'docs/studio-builder.png' });
      await page.click('label.seg:has(input[value="table"])');
    }
    const shown = new Map(rows.map((cells) => [cells.find((c) => c.member === 'ad_performance.platform')!.raw, cells]));
    const cellOf = (platform: string, member: string): Cell => shown.get(platform)!.find((c) => c.member === member)!;

    // The API, asked directly with the same question.
    const api = await gql<{
      query: {
        comparison: { dateRange: string[]; rows: { dimensions: Record<string, string>; measures: { member: string; current: number; previous: number }[] }[] };
      };
    }>(
      tokens.acme,
      'query($q: JSON!) { query(query: $q, compareTo: {period: PREVIOUS_PERIOD}) { comparison { dateRange rows { dimensions measures { member current previous } } } } }',
      {
        q: {
          measures: ['ad_performance.cost', 'ad_performance.roas'],
          dimensions: ['ad_performance.platform'],
          timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last month' }],
          limit: 100,
        },
      },
    );
    const apiRows = api.query.comparison.rows;
    expect(apiRows.length).toBeGreaterThan(1);
    expect([...shown.keys()].sort()).toEqual(apiRows.map((r) => r.dimensions['ad_performance.platform']).sort());
    for (const r of apiRows) {
      const platform = r.dimensions['ad_performance.platform']!;
      for (const m of r.measures) {
        expect(num(cellOf(platform, m.member).raw)).toBe(m.current);
        expect(num(cellOf(platform, `${m.member}:previous`).raw)).toBe(m.previous);
      }
      const cost = r.measures.find((m) => m.member === 'ad_performance.cost')!;
      expect(cellOf(platform, 'ad_performance.cost').text).toBe(money.format(cost.current));
    }

    // Independent: ClickHouse itself, for both periods.
    const [from, to] = lastMonth();
    expect(api.query.comparison.dateRange.map((d) => d.slice(0, 10))).toEqual([from, to]);
    const current = await oracleByPlatform('acme', from, to);
    const previous = await oracleByPlatform('acme', ...previousMonth(from));
    // Rows: platforms of either period (a platform only in the previous one shows with no current value).
    expect(shown.size).toBe(new Set([...current.keys(), ...previous.keys()]).size);
    for (const [platform, o] of current) {
      expect(Number(cellOf(platform, 'ad_performance.cost').raw)).toBeCloseTo(o.cost, 6);
      expect(Number(cellOf(platform, 'ad_performance.roas').raw)).toBeCloseTo(o.roas, 9);
      expect(Number(cellOf(platform, 'ad_performance.cost:previous').raw)).toBeCloseTo(previous.get(platform)!.cost, 6);
    }

    // The code the page shows answers the same question through each door.
    const costs = new Map([...current].map(([p, o]) => [p, o.cost]));
    const graphqlText = await codeOf(page, 'GraphQL');
    const viaGraphql = await gql<{ adPerformance: { platform: string; cost: number; compare: { cost: { previous: number } } }[] }>(tokens.acme, graphqlText);
    expect(new Map(viaGraphql.adPerformance.map((r) => [r.platform, r.cost]))).toEqual(
      new Map([...shown.keys()].map((p) => [p, Number(cellOf(p, 'ad_performance.cost').raw)])),
    );
    for (const r of viaGraphql.adPerformance) expect(r.compare.cost.previous).toBe(Number(cellOf(r.platform, 'ad_performance.cost:previous').raw));

    const restText = await codeOf(page, 'Cube REST');
    const [request, ...json] = restText.split('\n');
    expect(request).toBe('POST /cubejs-api/v1/load');
    const rest = await fetch(`${url}/cubejs-api/v1/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: tokens.acme },
      body: json.join('\n'),
    });
    expect(rest.status).toBe(200);
    const restRows = ((await rest.json()) as { data: Record<string, string | number>[] }).data;
    for (const r of restRows) expect(Number(r['ad_performance.cost'])).toBeCloseTo(costs.get(String(r['ad_performance.platform']))!, 6);
    expect(restRows).toHaveLength(current.size);

    const sqlText = await codeOf(page, 'SQL');
    const client = new pg.Client({ host: '127.0.0.1', port: app.server.sqlProxyPort, user: 'acme', password: tokens.acme, database: 'strata' });
    await client.connect();
    try {
      const sqlRows = (await client.query(sqlText)).rows as { platform: string; cost: string; roas: string }[];
      expect(sqlRows).toHaveLength(current.size);
      for (const r of sqlRows) {
        expect(Number(r.cost)).toBeCloseTo(costs.get(r.platform)!, 6);
        expect(Number(r.roas)).toBeCloseTo(current.get(r.platform)!.roas, 9);
      }
    } finally {
      await client.end();
    }
    expect(foreign).toEqual([]);
  }, 180_000);

  it('saves the question to a new dashboard, which shows the same numbers and exports them as CSV', async () => {
    // The page is still on the builder with the question of the test above, shown as a table.
    const built = await page.$$eval('table.result tbody tr', (trs) => trs.map((tr) => tr.textContent));
    await page.click('.output button.secondary');
    await page.waitForSelector('form.save-widget');
    await page.type('form.save-widget input[placeholder]', 'Studio spend review');
    await page.click('form.save-widget button[type=submit]');
    await page.waitForFunction(() => location.hash.startsWith('#/dashboards/'), { timeout: 30_000 });
    const id = decodeURIComponent(await page.evaluate(() => location.hash.slice('#/dashboards/'.length)));
    await page.waitForSelector('[data-widget="w1"] table.result tbody tr', { timeout: 60_000 });
    expect(await page.$$eval('[data-widget="w1"] table.result tbody tr', (trs) => trs.map((tr) => tr.textContent))).toEqual(built);
    const saved = await gql<{ dashboard: { name: string; widgets: { query: Record<string, unknown>; display: { chart: string } }[] } }>(
      tokens.acme,
      'query($id: ID!) { dashboard(id: $id) { name widgets { query display } } }',
      { id },
    );
    expect(saved.dashboard.name).toBe('Studio spend review');
    expect(saved.dashboard.widgets[0]!.query).toMatchObject({
      measures: ['ad_performance.cost', 'ad_performance.roas'],
      compareTo: { period: 'previousPeriod' },
    });
    expect(saved.dashboard.widgets[0]!.display.chart).toBe('table');

    await page.click('[data-widget="w1"] button[aria-label="Export as CSV"]');
    await page.waitForSelector('[data-widget="w1"] .exports a[download]', { timeout: 60_000 });
    const href = await page.$eval('[data-widget="w1"] .exports a[download]', (a) => (a as HTMLAnchorElement).href);
    const csv = await (await fetch(href)).text();
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    expect(header).toContain('ad_performance.cost');
    // A file holds one period (reports/exports.ts): the current one, each platform with spend in it.
    const current = await oracleByPlatform('acme', ...lastMonth());
    expect(lines).toHaveLength(current.size);
    for (const line of lines) {
      const [platform, cost] = line.split(',');
      expect(Number(cost)).toBeCloseTo(current.get(JSON.parse(platform!))!.cost, 6);
    }
  }, 180_000);

  let dashboardId: string;

  it('opens a dashboard with a platform filter; a widget updates live after an ingest', async () => {
    const created = await gql<{ createDashboard: { id: string } }>(
      tokens.acme,
      'mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }',
      {
        input: {
          name: 'Paid media pulse',
          filters: [{ name: 'platform', type: 'MEMBER', member: 'ad_performance.platform' }],
          widgets: [
            {
              id: 'spend',
              title: 'Spend by day',
              query: {
                measures: ['ad_performance.cost'],
                timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last 7 days' }],
              },
              display: { chart: 'line' },
            },
            {
              id: 'clicks',
              title: 'Clicks',
              query: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last 7 days' }] },
              display: { chart: 'kpi' },
            },
          ],
        },
      },
    );
    dashboardId = created.createDashboard.id;
    await page.goto(`${url}/studio#/dashboards/${dashboardId}`, { waitUntil: 'load' });
    await page.waitForSelector('.live-status[data-status="live"]', { timeout: 60_000 });
    await page.type('#filter-platform', 'google_ads');
    await page.click('form.filter-bar button[type=submit]');
    const view = { values: [{ name: 'platform', values: ['google_ads'] }] };
    const apiClicks = async (): Promise<number> =>
      (
        await gql<{ dashboard: { widgets: { id: string; result: { data: Record<string, number>[] } }[] } }>(
          tokens.acme,
          'query($id: ID!, $view: DashboardViewInput) { dashboard(id: $id, view: $view) { widgets { id result { data } } } }',
          { id: dashboardId, view },
        )
      ).dashboard.widgets.find((w) => w.id === 'clicks')!.result.data[0]!['ad_performance.clicks']!;
    const before = await apiClicks();
    const { rows: all } = await app.server.services.engine.query<{ clicks: number }>(
      "SELECT sum(clicks) AS clicks FROM ad_performance FINAL WHERE tenant_id = 'acme' AND date >= today() - 6 AND date <= today()",
    );
    expect(before).toBeLessThan(Number(all[0]!.clicks)); // the filter narrows to one platform
    const kpi = '[data-widget="clicks"] .kpi-value';
    await page.waitForFunction((sel, want) => Number(document.querySelector(sel)?.getAttribute('data-raw')) === want, { timeout: 60_000 }, kpi, before);
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/studio-dashboard.png' });

    // One of acme's google_ads rows of yesterday, copied to a new ad with 777 clicks, through ingestion.
    const [existing] = (
      await app.server.services.engine.query<Record<string, unknown>>(
        "SELECT * EXCEPT (tenant_id) FROM ad_performance FINAL WHERE tenant_id = 'acme' AND platform = 'google_ads' AND date = yesterday() LIMIT 1",
      )
    ).rows;
    expect(existing).toBeDefined();
    const res = await fetch(`${url}/v1/ingest/ad_performance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.ingest}`, 'content-type': 'application/x-ndjson', 'idempotency-key': 'studio-live-1' },
      body: JSON.stringify({ ...existing, ad_id: 'ad-studio-live-1', clicks: 777 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ inserted: 1 });
    await page.waitForFunction((sel, want) => Number(document.querySelector(sel)?.getAttribute('data-raw')) === want, { timeout: 60_000 }, kpi, before + 777);
    expect(await page.$eval('[data-widget="clicks"] .updated', (e) => Number(e.getAttribute('data-updates')))).toBeGreaterThanOrEqual(1);
    expect(await apiClicks()).toBe(before + 777);
    expect(foreign).toEqual([]);
  }, 180_000);

  it("a second tenant's session never shows the first tenant's data", async () => {
    const p = await newPage(other);
    await signIn(p, 'globex');
    // acme's dashboard, by its id: not found for globex.
    await p.goto(`${url}/studio#/dashboards/${dashboardId}`, { waitUntil: 'load' });
    await p.waitForSelector('main .error', { timeout: 30_000 });
    expect(await p.$eval('main .error', (e) => e.textContent)).toContain('NOT_FOUND');
    await p.goto(`${url}/studio#/dashboards`, { waitUntil: 'load' });
    await p.waitForSelector('.dashboard-list');
    expect(await p.$eval('.dashboard-list', (e) => e.textContent)).not.toContain('Paid media pulse');

    const rows = await buildCostAndRoas(p);
    const [from, to] = lastMonth();
    const globex = await oracleByPlatform('globex', from, to);
    const globexBefore = await oracleByPlatform('globex', ...previousMonth(from));
    const acme = await oracleByPlatform('acme', from, to);
    expect(rows).toHaveLength(new Set([...globex.keys(), ...globexBefore.keys()]).size);
    for (const cells of rows) {
      const platform = cells.find((c) => c.member === 'ad_performance.platform')!.raw;
      const cost = num(cells.find((c) => c.member === 'ad_performance.cost')!.raw);
      if (globex.has(platform)) expect(cost).toBeCloseTo(globex.get(platform)!.cost, 6);
      else expect(cost ?? 0).toBe(0); // no row in that period: spend 0 (the API's answer for a sum)
      const before = num(cells.find((c) => c.member === 'ad_performance.cost:previous')!.raw);
      if (globexBefore.has(platform)) expect(before).toBeCloseTo(globexBefore.get(platform)!.cost, 6);
      else expect(before ?? 0).toBe(0);
    }
    // No acme figure anywhere on globex's page.
    const text = await p.$eval('main', (e) => e.textContent ?? '');
    for (const o of acme.values()) expect(text).not.toContain(money.format(o.cost));
    // The first tenant's tab still shows acme (sessions are per browser tab, not shared).
    expect(await page.$eval('.who', (e) => e.getAttribute('data-session'))).toBe('acme');
    expect(await p.$eval('.who', (e) => e.getAttribute('data-session'))).toBe('globex');
    expect(pageErrors).toEqual([]);
    expect(foreign).toEqual([]);
  }, 180_000);
});
