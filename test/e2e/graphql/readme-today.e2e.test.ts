/**
 * The README's first GraphQL example on a fresh data directory with the REAL clock (no
 * DEMO_END_DATE): the demo data ends yesterday, so "last month" has rows on any day, and the
 * development banner shows the window. Every other e2e test pins the window to FIXED_DEMO_END_DATE.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { yesterdayUtc } from '../../../src/demo/window.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ DEMO_END_DATE: '', STRATA_ENV: 'development', SQL_PROXY_ENABLED: 'false' });
}, 180_000);
afterAll(async () => server?.stop());

/** The README's curl, as fetch. */
async function readmeExample(
  token: string,
): Promise<{ data?: { adPerformance: { platform: string; clicks: number; ctr: number; cpa: number | null }[] }; errors?: unknown[] }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ adPerformance(where: {date: {inDateRange: "last month"}}) { platform clicks ctr cpa } }' }),
  });
  return res.json() as never;
}

it('returns rows for "last month" today, and the banner shows data ending yesterday', async () => {
  // `npx strata token --tenant acme` mints an analyst token
  const token = await mintDevToken(server.jwtSecret, { tenantId: 'acme', roles: ['analyst'], expiresIn: '10m' });
  const body = await readmeExample(token);
  expect(body.errors).toBeUndefined();
  const rows = body.data?.adPerformance ?? [];
  expect(rows.length).toBeGreaterThan(2);
  for (const r of rows) {
    expect(r.clicks, r.platform).toBeGreaterThan(0);
    expect(r.ctr, r.platform).toBeGreaterThan(0);
  }

  // the banner is printed right after the server starts listening (and so may follow /ready)
  const bannerLine = () =>
    server
      .output()
      .split('\n')
      .find((l) => l.startsWith('  Demo data'));
  for (let i = 0; i < 50 && !bannerLine(); i++) await new Promise((r) => setTimeout(r, 100));
  const banner = bannerLine();
  const ends = [yesterdayUtc(new Date()), yesterdayUtc(new Date(Date.now() - 3_600_000))];
  expect(banner, server.output()).toMatch(new RegExp(`^  Demo data {11}\\d{4}-\\d{2}-\\d{2} \\.\\. (${ends.join('|')})$`));
  expect(server.output()).not.toContain('npx strata seed');
});
