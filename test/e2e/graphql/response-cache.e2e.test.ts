/**
 * The GraphQL response cache as clients see it: a repeated query costs no ClickHouse query and
 * is still audited; it is never served to another tenant or another scope set; ingestion
 * invalidates it at once; metadata reads (audit log) are never cached.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;
const mint = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('e2e-cache').setExpirationTime('10m').sign(new TextEncoder().encode(server.jwtSecret));

beforeAll(async () => {
  server = await startServerProcess({ SQL_PROXY_ENABLED: 'false' });
}, 180_000);
afterAll(async () => server?.stop());

async function gql(token: string, query: string) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

async function engineQueries(): Promise<number> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${await mint({ tenant_id: 'acme', scope: 'platform:metrics' })}` } })
  ).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('strata_clickhouse_queries_total'))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

const Q = '{ adPerformance(where: {date: {inDateRange: ["2026-10-01", "2026-10-31"]}, platform: {equals: "google_ads"}}) { platform clicks cost } }';

it('serves repeats from cache, per tenant and scope set, audits hits, and drops entries on ingest', async () => {
  const acme = await mint({ tenant_id: 'acme', roles: ['tenant_admin'] });
  const globex = await mint({ tenant_id: 'globex', roles: ['analyst'] });
  const viewer = await mint({ tenant_id: 'acme', roles: ['viewer'] });

  const first = await gql(acme, Q);
  expect(first.errors).toBeUndefined();
  const before = await engineQueries();
  const again = await gql(acme, Q);
  expect(again).toEqual(first);
  expect(await gql(acme, Q)).toEqual(first); // later hits reuse the serialized answer
  expect(await engineQueries()).toBe(before); // no ClickHouse work for the repeat

  // Same document, other tenant / fewer scopes: never the cached answer.
  const other = await gql(globex, Q);
  expect(other.errors).toBeUndefined();
  expect(other.data).not.toEqual(first.data);
  expect(await engineQueries()).toBeGreaterThan(before);
  const limited = await gql(viewer, Q);
  expect(limited.errors[0].extensions.code).toBe('FORBIDDEN');
  expect(limited.data.adPerformance.every((r: { cost: unknown }) => r.cost === null)).toBe(true);

  // Ingesting for acme changes the answer immediately.
  const row = {
    date: '2026-10-05',
    platform: 'google_ads',
    account_id: 'acme-acc-9',
    campaign_id: 'acme-cmp-9',
    ad_group_id: 'acme-ag-9',
    ad_id: 'acme-ad-9',
    country: 'US',
    device: 'mobile',
    impressions: 1000,
    clicks: 77,
    cost: 10,
    conversions: 1,
    conversion_value: 5,
    video_views: 0,
    engagements: 0,
  };
  // The model's campaign_exists rule: the campaign is loaded before its facts.
  const campaign = await fetch(`${server.url}/v1/ingest/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${acme}`, 'idempotency-key': 'cache-test-campaign' },
    body: JSON.stringify({
      campaign_id: 'acme-cmp-9',
      platform: 'google_ads',
      account_id: 'acme-acc-9',
      name: 'Nine',
      type: 'search',
      status: 'active',
      objective: 'sales',
      budget: 1,
      budget_type: 'daily',
      start_date: '2026-01-01',
    }),
  });
  expect((await campaign.json()).inserted).toBe(1);
  const ingest = await fetch(`${server.url}/v1/ingest/ad_performance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${acme}`, 'idempotency-key': 'cache-test-1' },
    body: JSON.stringify(row),
  });
  expect((await ingest.json()).inserted).toBe(1);
  const after = await gql(acme, Q);
  const clicks = (r: { data: { adPerformance: { clicks: number }[] } }) => r.data.adPerformance.reduce((a, x) => a + x.clicks, 0);
  expect(clicks(after)).toBe(clicks(first) + 77);

  // Every read is in the audit trail, cache hits included (3 identical reads of Q before the ingest, 1 after).
  let entries: { queryFingerprint: string; members: string[] }[] = [];
  for (let i = 0; i < 20; i++) {
    const audit = await gql(acme, '{ auditLog(limit: 100) { queryFingerprint members door } }');
    entries = audit.data.auditLog.filter((e: { members: string[] }) => e.members.includes('ad_performance.cost'));
    if (entries.length >= 4) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(entries.length).toBe(4);
  expect(new Set(entries.map((e) => e.queryFingerprint)).size).toBe(1);
});
