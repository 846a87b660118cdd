/**
 * The SQL proxy inside the whole server (`startServer`: HTTP doors and the proxy on one event loop):
 * clients flooding oversized startup messages do not hold up /health, GraphQL or other SQL sessions,
 * and connection limits answer the way Postgres does (FATAL 53300), globally and per tenant.
 * Timings are not asserted (shared machine): every request must answer, with the right data.
 */
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

const MAX = 8;
const PER_TENANT = 3;
let app: InProcessServer;
let sqlPort: number;

beforeAll(async () => {
  app = await startInProcessServer('sql-limits', {
    SQL_PROXY_ENABLED: 'true',
    SQL_PROXY_PORT: '0',
    SQL_PROXY_MAX_CONNECTIONS: String(MAX),
    SQL_PROXY_MAX_CONNECTIONS_PER_TENANT: String(PER_TENANT),
  });
  sqlPort = app.server.sqlProxyPort!;
}, 240_000);
afterAll(() => app?.close());

const token = (tenantId: string) => mintDevToken(app.jwtSecret, { tenantId, scopes: ['metrics:read'], expiresIn: '1h' });

async function session(tenantId: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: sqlPort, user: 'bi', database: 'strata', password: await token(tenantId) });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function refusal(tenantId: string): Promise<{ code?: string; message: string }> {
  const e = await session(tenantId).then(
    async (c) => {
      await c.end();
      return new Error('connected');
    },
    (err: unknown) => err,
  );
  return e as { code?: string; message: string };
}

/** Announces a 64 MB startup message and keeps writing until the server cuts it off; returns what it answered. */
function flood(): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = connect(sqlPort, '127.0.0.1');
    let answer = '';
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    s.on('connect', () => {
      const head = Buffer.alloc(8);
      head.writeInt32BE(64 * 1024 * 1024, 0);
      head.writeInt32BE(196608, 4);
      s.write(head);
      const pump = () => {
        while (!s.destroyed && s.write(chunk)) {}
      };
      s.on('drain', pump);
      pump();
    });
    s.on('data', (d) => {
      answer += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => resolve(answer));
  });
}

async function graphqlClicks(): Promise<number> {
  const res = await fetch(`${app.server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token('acme')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ query(query: {measures: ["ad_performance.clicks"]}) { data } }' }),
  });
  const body = (await res.json()) as { data: { query: { data: Record<string, number>[] } } };
  return Number(body.data.query.data[0]['ad_performance.clicks']);
}

describe('pre-authentication flood', () => {
  it('while three clients keep announcing 64 MB startup messages, /health, GraphQL and a SQL session answer', async () => {
    const before = await graphqlClicks();
    const sql = await session('acme');
    let flooding = true;
    const answers: string[] = [];
    const flooders = Array.from({ length: 3 }, async () => {
      while (flooding) answers.push(await flood());
    });
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const health = await fetch(`${app.server.url}/health`);
      served.push(`health ${health.status}`);
      expect(await graphqlClicks()).toBe(before);
      const { rows } = await sql.query('SELECT SUM(clicks) AS c FROM ad_performance');
      expect(Number(rows[0].c)).toBe(before);
    }
    flooding = false;
    await Promise.all(flooders);
    await sql.end();
    expect(served.every((s) => s === 'health 200')).toBe(true);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    // Each flooder was cut off from its header with a protocol violation, not read to the end.
    expect(answers.every((a) => a.includes('08P01'))).toBe(true);
  }, 120_000);
});

describe('connection limits', () => {
  it(`a tenant may hold ${PER_TENANT} sessions; the next gets 53300 naming the tenant, others are unaffected`, async () => {
    const mine = await Promise.all(Array.from({ length: PER_TENANT }, () => session('acme')));
    const over = await refusal('acme');
    expect(over.code).toBe('53300');
    expect(over.message).toBe('too many connections for tenant "acme"');
    const other = await session('globex');
    expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // A slot freed is a slot to take again.
    await mine.pop()!.end();
    const again = await session('acme');
    await Promise.all([...mine, again, other].map((c) => c.end()));
  }, 60_000);

  it(`past ${MAX} connections, counting those still logging in, the next gets "sorry, too many clients already"`, async () => {
    const held = await Promise.all([
      ...Array.from({ length: PER_TENANT }, () => session('acme')),
      ...Array.from({ length: PER_TENANT }, () => session('globex')),
    ]);
    // Sockets that connect and say nothing (yet) hold their slots until the login timeout.
    const idle = await Promise.all(
      Array.from(
        { length: MAX - held.length },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(sqlPort, '127.0.0.1', () => resolve(s));
            s.on('error', () => {});
          }),
      ),
    );
    const over = await refusal('initech');
    expect(over.code).toBe('53300');
    expect(over.message).toBe('sorry, too many clients already');
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const fits = await session('initech');
    await Promise.all([...held, fits].map((c) => c.end()));
  }, 60_000);
});
