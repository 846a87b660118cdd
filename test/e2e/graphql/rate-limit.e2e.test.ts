/**
 * Per-tenant rate limits as a client sees them: the free plan (initech, 5/s with a burst of 20)
 * runs out and gets HTTP 429 with RATE_LIMITED and Retry-After, while another tenant is unaffected.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ RATE_LIMIT_ENABLED: 'true', SQL_PROXY_ENABLED: 'false' });
}, 180_000);
afterAll(async () => server?.stop());

async function token(tenant: string): Promise<string> {
  return new SignJWT({ tenant_id: tenant, scope: 'metrics:read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(server.jwtSecret));
}

const ask = (tok: string) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ adPerformance(limit: 1) { platform clicks } }' }),
  });

it('answers 429 RATE_LIMITED with a retry hint once a free tenant exhausts its burst', async () => {
  const initech = await token('initech');
  // The plan is looked up in the background on first sight; give it a moment.
  await ask(initech);
  await new Promise((r) => setTimeout(r, 300));
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i < 40 && !limited; i++) {
    const res = await ask(initech);
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  expect(limited, `statuses: ${statuses.join(',')}`).toBeDefined();
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(15);
  expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = await limited!.json();
  expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
  expect(body.errors[0].message).toMatch(/initech/);

  // globex is on the enterprise plan and its own bucket.
  expect((await ask(await token('globex'))).status).toBe(200);
});
