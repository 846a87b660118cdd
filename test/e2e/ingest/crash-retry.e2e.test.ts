/**
 * kill -9 during a large ingestion, then a retry with the same Idempotency-Key on a restarted
 * server: the warehouse holds one copy of every row, counted in ClickHouse's own storage (no FINAL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import { freePort, TEST_JWT_SECRET } from '../../helpers/server-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'strata-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ROWS = 200_000;
const CAMPAIGN = 'acme-crash-cmp';

/** `node --import tsx`: the pid is the server itself (a tsx wrapper would survive as a parent only). */
async function startServer() {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      STRATA_ENV: 'test',
      LOG_LEVEL: 'debug',
      DATA_DIR: dataDir,
      PORT: String(port),
      SQL_PROXY_ENABLED: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
      DEMO_SCALE: '0.05',
      SEED_DEMO: 'true',
      DEMO_END_DATE: FIXED_DEMO_END_DATE,
      RATE_LIMIT_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 480; i++) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${out}`);
    if (
      await fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, output: () => out, kill: (s: NodeJS.Signals) => child.kill(s), exited };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`server not ready:\n${out}`);
}
const mint = () =>
  new SignJWT({ tenant_id: 'acme', roles: ['tenant_admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('e2e-crash')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));

function body(): string {
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    lines.push(
      JSON.stringify({
        date: `2026-10-${String(1 + (i % 28)).padStart(2, '0')}`,
        platform: 'google_ads',
        account_id: 'acme-crash-acc',
        campaign_id: CAMPAIGN,
        ad_group_id: 'acme-crash-ag',
        ad_id: `crash-${i}`,
        country: 'US',
        device: 'mobile',
        impressions: 100,
        clicks: 1,
        cost: 0.5,
        conversions: 0,
        conversion_value: 0,
        video_views: 0,
        engagements: 0,
      }),
    );
  }
  return lines.join('\n');
}

const post = (url: string, token: string, table: string, text: string, key: string) =>
  fetch(`${url}/v1/ingest/${table}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'idempotency-key': key }, body: text });

it('a retry after SIGKILL mid-batch stores each row once', async () => {
  const text = body();
  const first = await startServer();
  const token = await mint();
  const campaign = {
    campaign_id: CAMPAIGN,
    platform: 'google_ads',
    account_id: 'acme-crash-acc',
    name: 'Crash',
    type: 'search',
    status: 'active',
    objective: 'sales',
    budget: 1,
    budget_type: 'daily',
    start_date: '2026-01-01',
  };
  expect((await post(first.url, token, 'campaigns', JSON.stringify(campaign), 'crash-campaign')).status).toBe(200);

  // Kill the server once a few chunks of the batch are stored (its debug log says so).
  const stored = () =>
    first
      .output()
      .split('\n')
      .filter((l) => l.includes('"crash-batch"') && l.includes('ingest: chunk stored')).length;
  const request = post(first.url, token, 'ad_performance', text, 'crash-batch').catch((e: Error) => e);
  while (stored() < 2) {
    const done = await Promise.race([request.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20))]);
    if (done) throw new Error(`the batch finished before the kill:\n${first.output().slice(-6000)}`);
  }
  first.kill('SIGKILL');
  await first.exited;
  expect(await request).toBeInstanceOf(Error); // the connection died with the server

  const second = await startServer();
  const retry = await post(second.url, token, 'ad_performance', text, 'crash-batch');
  expect(retry.status).toBe(200);
  expect(await retry.json()).toMatchObject({ inserted: ROWS, quarantinedCount: 0, duplicate: false });
  const again = await post(second.url, token, 'ad_performance', text, 'crash-batch');
  expect(await again.json()).toMatchObject({ inserted: ROWS, duplicate: true });
  const other = await post(second.url, token, 'ad_performance', text.replace('crash-0"', 'crash-x"'), 'crash-batch');
  expect(other.status).toBe(409);
  expect(await other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  second.kill('SIGTERM');
  await second.exited;

  // The warehouse itself, without FINAL: one stored copy per row.
  const engine = createEngine({ database: 'strata', chdbPath: join(dataDir, 'clickhouse'), queryTimeoutMs: 60_000 });
  try {
    const { rows } = await engine.query<{ n: number; ads: number }>(
      'SELECT count() AS n, uniqExact(ad_id) AS ads FROM ad_performance WHERE tenant_id = {t:String} AND campaign_id = {c:String} SETTINGS final = 0',
      { t: 'acme', c: CAMPAIGN },
    );
    expect({ n: Number(rows[0].n), ads: Number(rows[0].ads) }).toEqual({ n: ROWS, ads: ROWS });
  } finally {
    await engine.close();
  }
}, 300_000);
