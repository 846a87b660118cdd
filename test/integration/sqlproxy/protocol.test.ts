/**
 * Door protocol test: the SQL proxy over an IN-MEMORY QueryService (test double, see
 * memory-service.ts), driven by real clients — node-postgres, the psql binary and a raw socket.
 * The real query service and ClickHouse engine are covered by test/e2e/sqlproxy.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
// @ts-expect-error no types for the internal module
import binaryParsers from 'pg-types/lib/binaryParsers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { frontend, MessageBuilder, splitBackendMessages } from '../../../src/sqlproxy/codec.js';
import { decodeNumericBinary } from '../../../src/sqlproxy/pg-types.js';
import { startSqlProxy, type SqlProxy } from '../../../src/sqlproxy/server.js';
import { authenticator, dataset, memoryQueryService, type MemoryService } from './memory-service.js';

const run = promisify(execFile);
let proxy: SqlProxy;
let service: MemoryService;
const data = dataset();

beforeAll(async () => {
  service = memoryQueryService(data);
  proxy = await startSqlProxy({ config: { enabled: true, port: 0, host: '127.0.0.1' }, query: service, authenticator, logger: createLogger('silent') });
});
afterAll(() => proxy?.close());

async function client(password = 'sk_acme_analyst', extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'metabase', database: 'strata', password, ...extra });
  c.on('error', () => {});
  await c.connect();
  return c;
}

function psql(args: string[], password = 'sk_acme_analyst', port = proxy.port) {
  return run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'analyst', '-d', 'strata', '-X', '-v', 'ON_ERROR_STOP=1', ...args], {
    env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' },
  });
}

/** Independent computation over the fixture rows. */
function sumBy(tenant: string, pick: (r: (typeof data)[number]) => boolean, key: (r: (typeof data)[number]) => string) {
  const out = new Map<string, number>();
  for (const r of data) if (r.tenant === tenant && pick(r)) out.set(key(r), (out.get(key(r)) ?? 0) + r.clicks);
  return out;
}

describe('authentication', () => {
  it('accepts an API key as the password and refuses a wrong one with 28P01', async () => {
    const c = await client();
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
    await expect(client('sk_wrong').then((x) => x.end())).rejects.toMatchObject({
      code: '28P01',
      message: 'password authentication failed for user "metabase"',
    });
  });

  it('reports the startup parameters drivers rely on', async () => {
    const c = await client();
    const params = c as unknown as { connectionParameters: unknown; processID: number; secretKey: number };
    expect(params.processID).toBeGreaterThan(0);
    expect((await c.query('SHOW DateStyle')).rows).toEqual([{ DateStyle: 'ISO, MDY' }]);
    await c.end();
  });

  it('tells one story about itself: version, user and database agree wherever they are asked', async () => {
    const c = await client();
    const shown = (await c.query('SHOW server_version')).rows[0].server_version as string;
    const announced = (c as unknown as { parameters?: Record<string, string> }).parameters?.server_version;
    const [engine] = (
      await c.query(
        "SELECT version() AS v, current_setting('server_version') AS sv, current_setting('server_version_num') AS num, current_user AS cu, session_user AS su, user AS u, current_database() AS db, pg_catalog.current_database() AS db2, current_catalog AS cat",
      )
    ).rows;
    const shownNum = (await c.query('SHOW server_version_num')).rows[0].server_version_num as string;
    // The engine answering catalog queries is the version announced (an engine upgrade fails here).
    expect(engine.v).toMatch(new RegExp(`^PostgreSQL ${shown.replace('.', '\\.')} `));
    expect([engine.sv, engine.num]).toEqual([shown, shownNum]);
    if (announced) expect(announced).toBe(shown);
    expect([engine.cu, engine.su, engine.u]).toEqual(['metabase', 'metabase', 'metabase']);
    expect([engine.db, engine.db2, engine.cat]).toEqual(['strata', 'strata', 'strata']);
    const dbs = (await c.query('SELECT datname FROM pg_database ORDER BY 1')).rows.map((r) => r.datname);
    expect(dbs).toContain('strata');
    // Column names are Postgres' own.
    const named = await c.query('SELECT current_user, session_user, current_database(), current_catalog');
    expect(named.fields.map((f) => f.name)).toEqual(['current_user', 'session_user', 'current_database', 'current_catalog']);
    // Identity words inside strings and identifiers are left alone.
    expect((await c.query("SELECT 'current_user' AS current_user_text")).rows).toEqual([{ current_user_text: 'current_user' }]);
    await c.end();
  });
});

describe('simple and extended query protocol', () => {
  it('returns tenant-scoped numbers that match an independent computation', async () => {
    const expected = sumBy(
      'acme',
      () => true,
      (r) => r.channel,
    );
    for (const [password, tenant] of [
      ['sk_acme_analyst', 'acme'],
      ['sk_globex_analyst', 'globex'],
    ] as const) {
      const c = await client(password);
      const res = await c.query('SELECT channel, SUM(clicks) AS clicks FROM ad_performance GROUP BY channel ORDER BY channel');
      const want = [
        ...sumBy(
          tenant,
          () => true,
          (r) => r.channel,
        ),
      ]
        .sort()
        .map(([channel, clicks]) => ({ channel, clicks: String(clicks) }));
      expect(res.rows).toEqual(want);
      expect(res.fields.map((f) => f.dataTypeID)).toEqual([25, 1700]);
      await c.end();
    }
    expect(expected.size).toBe(4);
    expect(service.loads.at(-1)?.ctx).toMatchObject({ door: 'sqlproxy', principal: { tenantId: 'globex' } });
  });

  it('runs several statements in one Query message', async () => {
    const c = await client();
    const res = (await c.query("SET application_name = 'x'; SELECT COUNT(*) AS n FROM ad_performance; SELECT 2 AS two")) as unknown as pg.QueryResult[];
    expect(res.map((r) => r.command)).toEqual(['SET', 'SELECT', 'SELECT']);
    expect(res[1].rows).toEqual([{ n: String(data.filter((r) => r.tenant === 'acme').length) }]);
    expect(res[2].rows).toEqual([{ two: 2 }]);
    await c.end();
  });

  it('binds $n parameters (extended protocol)', async () => {
    const c = await client();
    const text =
      "SELECT date_trunc('month', date) AS m, SUM(clicks) AS clicks, COUNT(*) AS n, MEASURE(ctr) AS ctr FROM ad_performance WHERE channel = $1 AND date >= $2 GROUP BY 1 ORDER BY 1";
    const res = await c.query({ text, values: ['search', '2024-02-01'] });
    const feb = data.filter((r) => r.tenant === 'acme' && r.channel === 'search' && r.date >= '2024-02-01');
    const clicks = feb.reduce((a, r) => a + r.clicks, 0);
    const impressions = feb.reduce((a, r) => a + r.impressions, 0);
    expect(res.rows).toHaveLength(1);
    expect(res.rows[0]).toMatchObject({ m: new Date(2024, 1, 1), clicks: String(clicks), n: String(feb.length) });
    expect(Number(res.rows[0].ctr)).toBeCloseTo(clicks / impressions, 12);
    expect(res.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['m', 1114],
      ['clicks', 1700],
      ['n', 20],
      ['ctr', 1700],
    ]);
    await c.end();
  });

  it('executes a named prepared statement ten times', async () => {
    const c = await client();
    for (let i = 0; i < 10; i++) {
      const channel = ['search', 'social', 'display', 'video'][i % 4];
      const res = await c.query({
        name: 'by_channel',
        text: 'SELECT SUM(clicks) AS s, COUNT(*) AS n FROM ad_performance WHERE channel = $1',
        values: [channel],
      });
      expect(Number(res.rows[0].s)).toBe(
        sumBy(
          'acme',
          (r) => r.channel === channel,
          () => 'x',
        ).get('x'),
      );
      expect(res.rows[0].n).toBe('60');
    }
    await c.end();
  });

  it('reports errors with SQLSTATE and position, and keeps the connection usable', async () => {
    const c = await client();
    await expect(c.query('SELECT clickz FROM ad_performance')).rejects.toMatchObject({ code: '42703', position: '8' });
    await expect(c.query('SELECT channel FROM ad_performance WHERE channel = $1', [])).rejects.toMatchObject({ code: '42704' });
    await expect(c.query('DELETE FROM ad_performance')).rejects.toMatchObject({ code: '25006' });
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    await c.end();
  });

  it('a column behind a scope the key lacks is refused with 42501', async () => {
    const viewer = await client('sk_acme_viewer');
    await expect(viewer.query('SELECT channel, SUM(spend) FROM ad_performance GROUP BY 1')).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for column "spend" of relation "ad_performance"',
    });
    const cols = await viewer.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'ad_performance'");
    expect(cols.rows.map((r) => r.column_name)).not.toContain('spend');
    await viewer.end();
    const analyst = await client();
    const cols2 = await analyst.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ad_performance' ORDER BY ordinal_position",
    );
    expect(cols2.rows).toContainEqual({ column_name: 'spend', data_type: 'numeric' });
    expect(cols2.rows).toContainEqual({ column_name: 'count', data_type: 'bigint' });
    expect(cols2.rows).toContainEqual({ column_name: 'date', data_type: 'timestamp without time zone' });
    await analyst.end();
  });

  it('tracks transaction status: an error aborts the block until ROLLBACK', async () => {
    const c = await client();
    await c.query('BEGIN');
    await expect(c.query('SELECT nope FROM ad_performance')).rejects.toMatchObject({ code: '42703' });
    await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await c.query('ROLLBACK');
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    await c.end();
  });

  it('cancels a running query through a CancelRequest on a second connection', async () => {
    const c = await client();
    const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
    const running = c.query("SELECT SUM(clicks) FROM ad_performance WHERE channel = 'sleep'").then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    const cancel = new MessageBuilder('').int32(80877102).int32(processID).int32(secretKey).build().subarray(1); // no type byte
    await new Promise<void>((resolve) => {
      const s = connect(proxy.port, '127.0.0.1', () => s.end(cancel));
      s.on('close', () => resolve());
    });
    expect(await running).toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
    expect(service.loads.at(-1)?.ctx.signal?.aborted).toBe(true);
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    await c.end();
  });
});

/** Minimal raw client: startup, password, then whatever messages the test sends. */
async function rawClient(): Promise<{ socket: Socket; read: (until: string) => Promise<{ type: string; body: Buffer }[]> }> {
  const socket = connect(proxy.port, '127.0.0.1');
  let buffer = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer = Buffer.concat([buffer, d]);
    waiter?.();
  });
  const read = async (until: string) => {
    for (;;) {
      const msgs = splitBackendMessages(buffer);
      const complete = msgs.reduce((a, m) => a + m.raw.length, 0) === buffer.length;
      const idx = msgs.findIndex((m) => m.type === until);
      if (complete && idx >= 0) {
        buffer = Buffer.alloc(0);
        return msgs.map((m) => ({ type: m.type, body: m.body }));
      }
      await new Promise<void>((r) => (waiter = r));
    }
  };
  await new Promise((r) => socket.once('connect', r));
  const params = Buffer.from('user\0raw\0database\0strata\0\0');
  const start = Buffer.alloc(8);
  start.writeInt32BE(8 + params.length);
  start.writeInt32BE(196608, 4);
  socket.write(Buffer.concat([start, params]));
  await read('R');
  socket.write(new MessageBuilder('p').cstring('sk_acme_analyst').build());
  const hello = await read('Z');
  expect(hello.map((m) => m.type).filter((t) => t !== 'S')).toEqual(['R', 'K', 'Z']);
  return { socket, read };
}

function dataRowCells(body: Buffer): (Buffer | null)[] {
  const out: (Buffer | null)[] = [];
  let pos = 2;
  for (let i = 0; i < body.readInt16BE(0); i++) {
    const len = body.readInt32BE(pos);
    pos += 4;
    out.push(len < 0 ? null : body.subarray(pos, pos + len));
    if (len > 0) pos += len;
  }
  return out;
}

/** node-postgres' binary parsers, an implementation independent of ours. */
const BINARY: Record<number, (b: Buffer) => unknown> = {};
binaryParsers.init((oid: number, fn: (b: Buffer) => unknown) => (BINARY[oid] = fn));
BINARY[1082] = (b) => new Date(Date.UTC(2000, 0, 1) + b.readInt32BE(0) * 86_400_000);
// pg-types reads numeric weights as unsigned (wrong below 1); ours is checked byte-for-byte against Postgres in pg-types.test.ts.
BINARY[1700] = (b) => Number(decodeNumericBinary(b));

describe('raw protocol framing', () => {
  const raw = rawClient;

  it('Execute with a row limit suspends the portal, Describe reports types, Sync reports status', async () => {
    const { socket, read } = await raw();
    socket.write(
      Buffer.concat([
        frontend.parse('s1', 'SELECT channel, SUM(clicks) FROM ad_performance WHERE campaign_id > $1 GROUP BY 1 ORDER BY 1', [0]),
        frontend.describe('S', 's1'),
        frontend.bind('p1', 's1', [0], [Buffer.from('0')], [0]),
        frontend.execute('p1', 3),
        frontend.execute('p1', 3),
        frontend.sync(),
      ]),
    );
    const msgs = await read('Z');
    expect(msgs.map((m) => m.type)).toEqual(['1', 't', 'T', '2', 'D', 'D', 'D', 's', 'D', 'C', 'Z']);
    const t = msgs[1].body;
    expect([t.readInt16BE(0), t.readUInt32BE(2)]).toEqual([1, 1700]); // $1 inferred as numeric
    expect(msgs.at(-2)!.body.toString('utf8')).toBe('SELECT 4\0');
    expect(msgs.at(-1)!.body.toString('latin1')).toBe('I');
    // An error skips to Sync; the next Sync reports idle again.
    socket.write(
      Buffer.concat([frontend.parse('', 'SELECT nope FROM ad_performance', []), frontend.bind('', '', [], [], []), frontend.execute('', 0), frontend.sync()]),
    );
    const err = await read('Z');
    // Analysis happens at Bind/Execute here (Postgres reports it at Parse); either is legal for clients.
    expect(err.map((m) => m.type)).toEqual(['1', '2', 'E', 'Z']);
    socket.end(new MessageBuilder('X').build());
  });
});

describe('binary results (pgJDBC switches to binary after five executions)', () => {
  it('encodes int8, numeric, timestamp, date and bool in binary; catalog rows too', async () => {
    const { socket, read } = await rawClient();
    const sql =
      "SELECT CAST(date AS date) AS d, date_trunc('week', date) AS w, is_mobile, SUM(clicks) AS s, COUNT(*) AS n, MEASURE(ctr) AS ctr FROM ad_performance WHERE channel = $1 AND date < '2024-01-03' GROUP BY 1, 2, 3 ORDER BY 1";
    socket.write(frontend.parse('jdbc1', sql, [25]));
    const want = data.filter((r) => r.tenant === 'acme' && r.channel === 'video' && r.date < '2024-01-03');
    for (let i = 0; i < 10; i++) {
      const binary = i >= 5;
      socket.write(
        Buffer.concat([
          frontend.bind('', 'jdbc1', [0], [Buffer.from('video')], [binary ? 1 : 0]),
          frontend.describe('P', ''),
          frontend.execute('', 0),
          frontend.sync(),
        ]),
      );
      const msgs = await read('Z');
      const rows = msgs.filter((m) => m.type === 'D').map((m) => dataRowCells(m.body));
      expect(rows).toHaveLength(2);
      const decode = (oid: number, b: Buffer | null) => (b === null ? null : binary ? BINARY[oid](b) : b.toString('utf8'));
      const [d, w, mobile, s, n, ctr] = [1082, 1114, 16, 1700, 20, 1700].map((oid, j) => decode(oid, rows[0][j]));
      const r0 = want[0];
      if (binary) {
        expect((d as Date).getTime()).toBe(Date.UTC(2024, 0, 1) + new Date(2024, 0, 1).getTimezoneOffset() * 0);
        expect(w).toEqual(new Date(Date.UTC(2024, 0, 1)));
        expect([mobile, s, String(n)]).toEqual([r0.is_mobile, r0.clicks, '1']);
        expect(ctr).toBeCloseTo(r0.clicks / r0.impressions, 12);
      } else {
        expect([d, w, mobile, s, n]).toEqual(['2024-01-01', '2024-01-01 00:00:00', r0.is_mobile ? 't' : 'f', String(r0.clicks), '1']);
      }
    }
    socket.write(
      Buffer.concat([
        frontend.parse('', "SELECT relnatts, relname FROM pg_catalog.pg_class WHERE relname = 'campaigns'", []),
        frontend.bind('', '', [], [], [1]),
        frontend.execute('', 0),
        frontend.sync(),
      ]),
    );
    const cat = (await read('Z')).filter((m) => m.type === 'D').map((m) => dataRowCells(m.body));
    expect(cat.map(([natts, name]) => [natts!.readInt16BE(0), name!.toString()])).toEqual([[4, 'campaigns']]);
    socket.end(new MessageBuilder('X').build());
  });
});

describe('psql', () => {
  it('\\dt lists the visible cubes; \\d describes one with types', async () => {
    const { stdout } = await psql(['-c', '\\dt']);
    expect(stdout).toMatch(/public \| ad_performance \| table/);
    expect(stdout).toMatch(/public \| campaigns\s+\| table/);
    const d = await psql(['-c', '\\d ad_performance']);
    expect(d.stdout).toMatch(/clicks\s+\| numeric/);
    expect(d.stdout).toMatch(/date\s+\| timestamp without time zone/);
    expect(d.stdout).toMatch(/paid_search\s+\| boolean/);
    const viewer = await psql(['-c', '\\d ad_performance'], 'sk_acme_viewer');
    expect(viewer.stdout).not.toMatch(/spend/);
  });

  it('runs a date_trunc query with filters, ORDER BY and LIMIT', async () => {
    const { stdout } = await psql([
      '-A',
      '-t',
      '-c',
      "SELECT date_trunc('week', date) AS week, SUM(clicks) FROM ad_performance WHERE channel IN ('search', 'social') AND date >= '2024-01-08' AND date < '2024-01-22' GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
    ]);
    const weeks = [
      ...sumBy(
        'acme',
        (r) => ['search', 'social'].includes(r.channel) && r.date >= '2024-01-08' && r.date < '2024-01-22',
        (r) => (r.date < '2024-01-15' ? '2024-01-08 00:00:00' : '2024-01-15 00:00:00'),
      ),
    ];
    expect(stdout.trim().split('\n')).toEqual(
      weeks
        .sort()
        .reverse()
        .map(([w, s]) => `${w}|${s}`),
    );
  });

  it('shows errors with a caret at the position', async () => {
    const err = await psql(['-c', 'SELECT channel, SUM(ctr) FROM ad_performance GROUP BY 1']).catch((e) => e);
    expect(err.stderr).toContain('ERROR:  SUM(ctr) does not match measure "ctr" of type number');
    expect(err.stderr).toContain('HINT:  Use MEASURE(ctr).');
  });
});

describe('TLS', () => {
  it('answers SSLRequest with S and serves psql over sslmode=require', async () => {
    const dir = mkdtempSync(`${tmpdir()}/strata-tls-`);
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${dir}/key.pem`,
      '-out',
      `${dir}/cert.pem`,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ]);
    const tlsProxy = await startSqlProxy({
      config: { enabled: true, port: 0, host: '127.0.0.1', tlsCert: `${dir}/cert.pem`, tlsKey: `${dir}/key.pem` },
      query: service,
      authenticator,
      logger: createLogger('silent'),
    });
    try {
      const { stdout } = await run(
        'psql',
        [
          `host=127.0.0.1 port=${tlsProxy.port} user=a dbname=strata sslmode=require`,
          '-X',
          '-A',
          '-t',
          '-c',
          'SELECT ssl FROM pg_stat_ssl LIMIT 0',
          '-c',
          'SELECT COUNT(*) FROM ad_performance',
        ],
        {
          env: { ...process.env, PGPASSWORD: 'sk_acme_analyst' },
        },
      );
      expect(stdout.trim()).toBe(String(data.filter((r) => r.tenant === 'acme').length));
    } finally {
      await tlsProxy.close();
    }
  });
});
