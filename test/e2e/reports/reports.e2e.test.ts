/**
 * Reports over the REAL server (createServices + startServer: chDB, PGlite, demo warehouse at
 * scale 0.05) with real components: an SMTP server in this process (smtp-server) receives the
 * scheduled email, an HTTP receiver checks the webhook's signature, exceljs reads the XLSX back,
 * the embedded engine reads the Parquet back. Every number is checked against plain SQL with an
 * explicit tenant filter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import ExcelJS from 'exceljs';
import { SignJWT } from 'jose';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { verifySignature } from '../../../src/reports/destinations/webhook.js';
import { createMailer } from '../../../src/reports/destinations/email.js';
import { createReportsService } from '../../../src/reports/service.js';
import { type RunningServer, startServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';
import { freePort } from '../../helpers/server-process.js';

const SEP = ['2026-09-01', '2026-09-30'];
const QUERY = {
  measures: ['ad_performance.clicks', 'ad_performance.cost'],
  dimensions: ['ad_performance.platform'],
  timeDimensions: [{ dimension: 'ad_performance.date', dateRange: SEP }],
  order: { 'ad_performance.platform': 'asc' },
};

let dir: string;
let server: RunningServer;
let smtp: SMTPServer;
let hooks: Server;
const mails: { to: string[]; raw: Buffer }[] = [];
const hookCalls: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let hookStatus = 200;
const T: Record<string, string> = {};

async function token(tenant: string, sub: string, roles: string[], secret: string): Promise<string> {
  return new SignJWT({ tenant_id: tenant, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

async function gql(tok: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function ok(tok: string, query: string, variables: Record<string, unknown> = {}) {
  const body = await gql(tok, query, variables);
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Independent: clicks and cost per platform in September for a tenant. */
async function expected(tenant: string) {
  const { rows } = await server.services.engine.query<{ p: string; c: number; k: number }>(
    `SELECT platform AS p, toFloat64(sum(clicks)) AS c, toFloat64(sum(cost)) AS k FROM ad_performance
      WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} GROUP BY p ORDER BY p`,
    { t: tenant, a: SEP[0], b: SEP[1] },
  );
  return rows;
}

const EXPORT = `mutation($source: JSON!, $format: String!, $truncate: Boolean) {
  createExport(source: $source, format: $format, truncate: $truncate) { id status rows truncated downloadUrl errorCode error }
}`;

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-reports-`);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hookCalls.push({ headers: req.headers, body });
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));

  const { CLICKHOUSE_URL: _c, DATABASE_URL: _d, ...env } = process.env;
  const config = loadConfig({
    ...env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'error',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    JOBS_POLL_MS: '100',
    SCHEDULE_MIN_INTERVAL_SECONDS: '0',
    WEBHOOK_RETRY_BASE_MS: '10',
    // The test's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    EXPORT_WAIT_MS: '30000',
  });
  server = await startServer(await createServices(config));
  await server.services.warehouse.done;
  const secret = config.auth.jwtSecret as string;
  T.alice = await token('acme', 'alice', ['analyst'], secret);
  T.viewer = await token('acme', 'victor', ['viewer'], secret);
  T.globex = await token('globex', 'gina', ['analyst'], secret);
  T.initech = await token('initech', 'ian', ['analyst'], secret);
  // initech's plan settings: 2 rows, CSV only.
  await server.services.store.tenants.update('initech', { settings: { exports: { maxRows: 2, formats: ['csv'] } } });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  hooks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('exports', () => {
  it('XLSX: the cells read back with exceljs equal an independent SQL computation', async () => {
    const data = await ok(T.alice, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'xlsx' });
    expect(data.createExport, JSON.stringify(data.createExport)).toMatchObject({ status: 'ready', truncated: false });
    const res = await fetch(data.createExport.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('Export')!;
    const values = sheet.getSheetValues().slice(1) as unknown[][];
    expect(values[0].slice(1)).toEqual(['ad_performance.platform', 'ad_performance.clicks', 'ad_performance.cost']);
    const want = await expected('acme');
    expect(want.length).toBeGreaterThan(1);
    expect(values.slice(1).map((r) => [r[1], Number(r[2]), Number(r[3])])).toEqual(want.map((r) => [r.p, r.c, expect.closeTo(r.k, 6)]));
    expect(data.createExport.rows).toBe(want.length);
  });

  it('Parquet: read back by the embedded engine, equal to the same SQL; another tenant gets its own numbers', async () => {
    for (const [tok, tenant] of [
      [T.alice, 'acme'],
      [T.globex, 'globex'],
    ] as const) {
      const data = await ok(tok, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'parquet' });
      const file = `${dir}/${tenant}.parquet`;
      writeFileSync(file, Buffer.from(await (await fetch(data.createExport.downloadUrl)).arrayBuffer()));
      const { rows } = await server.services.engine.query<{ p: string; c: number; k: number }>(
        `SELECT \`ad_performance.platform\` AS p, toFloat64(\`ad_performance.clicks\`) AS c, toFloat64(\`ad_performance.cost\`) AS k FROM file('${file}', Parquet) ORDER BY p`,
      );
      const want = await expected(tenant);
      expect(rows.map((r) => [r.p, r.c])).toEqual(want.map((r) => [r.p, r.c]));
      for (const [i, r] of rows.entries()) expect(r.k).toBeCloseTo(want[i].k, 6);
    }
  });

  it('the link is bound to its tenant and audited; a bad token is not found', async () => {
    const data = await ok(T.alice, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'csv' });
    const url = new URL(data.createExport.downloadUrl);
    const other = await fetch(url, { headers: { authorization: `Bearer ${T.globex}` } });
    expect(other.status).toBe(404);
    url.searchParams.set('token', 'x'.repeat(64));
    expect((await fetch(url)).status).toBe(404);
    const csv = await (await fetch(data.createExport.downloadUrl, { headers: { authorization: `Bearer ${T.alice}` } })).text();
    expect(csv.split('\n')[0]).toBe('"ad_performance.platform","ad_performance.clicks","ad_performance.cost"');
    await server.services.store.audit.flush();
    const actions = (await server.services.store.audit.list('acme', { limit: 200 })).map((a) => a.action);
    expect(actions).toContain('export.create');
    expect(actions).toContain('export.download');
  });

  it('over the cap: refused with the cap in the message, or truncated when asked; formats and scopes the plan refuses', async () => {
    const over = await gql(T.initech, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'csv' });
    expect(over.errors?.[0].extensions?.code).toBe('EXPORT_TOO_LARGE');
    expect(over.errors?.[0].message).toContain('export limit of 2');
    const cut = await ok(T.initech, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'csv', truncate: true });
    expect(cut.createExport).toMatchObject({ status: 'ready', rows: 2, truncated: true });
    const text = await (await fetch(cut.createExport.downloadUrl)).text();
    expect(text.trim().split('\n')).toHaveLength(3);
    const xlsx = await gql(T.initech, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'xlsx' });
    expect(xlsx.errors?.[0].extensions?.code).toBe('EXPORT_NOT_ALLOWED');
    const viewer = await gql(T.viewer, EXPORT, { source: { kind: 'query', query: QUERY }, format: 'csv' });
    expect(viewer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('snapshots', () => {
  it('a saved query frozen, read back unchanged, compared with now and with another snapshot', async () => {
    const saved = await ok(T.alice, 'mutation($q: JSON!) { createSavedQuery(input: {name: "sep by platform", query: $q}) { id } }', { q: QUERY });
    const source = { kind: 'savedQuery', id: saved.createSavedQuery.id };
    const snap = await ok(T.alice, 'mutation($s: JSON!) { createSnapshot(source: $s, name: "sep") { id results } }', { s: source });
    const read = await ok(T.alice, 'query($id: ID!) { snapshot(id: $id) { results } }', { id: snap.createSnapshot.id });
    expect(read.snapshot.results).toEqual(snap.createSnapshot.results);
    const rows = read.snapshot.results[0].rows as Record<string, number | string>[];
    expect(rows.map((r) => [r['ad_performance.platform'], r['ad_performance.clicks']])).toEqual((await expected('acme')).map((r) => [r.p, r.c]));
    const cmp = await ok(T.alice, 'query($id: ID!) { compareSnapshot(id: $id) }', { id: snap.createSnapshot.id });
    expect(cmp.compareSnapshot[0].rows.length).toBe(rows.length);
    for (const r of cmp.compareSnapshot[0].rows) expect(r.measures['ad_performance.clicks'].direction).toBe('flat');
    const second = await ok(T.alice, 'mutation($s: JSON!) { createSnapshot(source: $s) { id } }', { s: source });
    const both = await ok(T.alice, 'query($id: ID!, $w: ID) { compareSnapshot(id: $id, with: $w) }', {
      id: snap.createSnapshot.id,
      w: second.createSnapshot.id,
    });
    expect(both.compareSnapshot[0].rows.every((r: any) => r.measures['ad_performance.cost'].change === 0)).toBe(true);
    // Another tenant does not see it.
    expect((await gql(T.globex, 'query($id: ID!) { snapshot(id: $id) { id } }', { id: snap.createSnapshot.id })).errors?.[0].extensions?.code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('schedules', () => {
  /** A cron that fires once, `seconds` from now (6 fields, UTC). */
  const onceIn = (seconds: number) => {
    const d = new Date(Date.now() + seconds * 1000);
    return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
  };
  const CREATE = `mutation($i: ReportScheduleInput!) { createReportSchedule(input: $i) { id nextRunAt } }`;
  const RUNS = 'query($id: ID!) { reportRuns(scheduleId: $id) { status rows errorCode error deliveries attempt } }';
  const runsOf = async (id: string) => (await ok(T.alice, RUNS, { id })).reportRuns as any[];

  it('delivers the CSV by email (attached) and a signed webhook, and records the run', async () => {
    const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
    const created = await ok(T.alice, CREATE, {
      i: {
        name: 'Weekly clicks',
        source: { kind: 'query', query: QUERY },
        format: 'csv',
        cron: onceIn(2),
        timezone: 'UTC',
        destinations: [
          { kind: 'email', to: ['client@example.com'] },
          { kind: 'webhook', url: hookUrl },
        ],
      },
    });
    const id = created.createReportSchedule.id;
    const [run] = await until(async () => {
      const runs = await runsOf(id);
      return runs[0]?.status === 'succeeded' ? runs : undefined;
    }, 'the scheduled run');
    const want = await expected('acme');
    expect(run.rows).toBe(want.length);
    const mail = mails.find((m) => m.to.includes('client@example.com'))!;
    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toContain('Weekly clicks');
    expect(parsed.attachments).toHaveLength(1);
    const lines = parsed.attachments[0].content.toString('utf8').trim().split('\n');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2))).toEqual(want.map((r) => [`"${r.p}"`, String(r.c)]));
    const secret = (await ok(T.alice, '{ webhookSigningSecret }')).webhookSigningSecret as string;
    const call = hookCalls.find((c) => JSON.parse(c.body).schedule.id === id)!;
    expect(verifySignature(secret, String(call.headers['x-strata-signature']), call.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifySignature('wrong', String(call.headers['x-strata-signature']), call.body, Math.floor(Date.now() / 1000))).toBe(false);
    expect(JSON.parse(call.body)).toMatchObject({ event: 'report.delivered', rows: want.length });
  });

  it('a webhook answering 500 is retried, then the run is recorded failed and the owner notified', async () => {
    hookStatus = 500;
    const before = hookCalls.length;
    const created = await ok(T.alice, CREATE, {
      i: {
        name: 'Failing hook',
        source: { kind: 'query', query: QUERY },
        format: 'ndjson',
        cron: onceIn(2),
        timezone: 'UTC',
        ownerEmail: 'alice@example.com',
        destinations: [{ kind: 'webhook', url: `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook` }],
      },
    });
    const id = created.createReportSchedule.id;
    const [run] = await until(async () => {
      const runs = await runsOf(id);
      return runs[0]?.status === 'failed' ? runs : undefined;
    }, 'the failed run');
    hookStatus = 200;
    expect(run.errorCode, run.error).toBe('DELIVERY_FAILED');
    expect(run.deliveries[0]).toMatchObject({ kind: 'webhook', status: 'failed' });
    expect(hookCalls.length - before).toBe(3); // WEBHOOK_ATTEMPTS
    const schedule = (await ok(T.alice, '{ reportSchedules { id failures } }')).reportSchedules.find((s: any) => s.id === id);
    expect(schedule.failures).toBe(1);
    await until(async () => (mails.some((m) => m.to.includes('alice@example.com')) ? true : undefined), 'the owner notice');
  });

  it('bad input gets coded errors: invalid cron, unknown time zone, format, destination', async () => {
    const base = {
      source: { kind: 'query', query: QUERY },
      format: 'csv',
      cron: '0 8 * * 1',
      timezone: 'UTC',
      destinations: [{ kind: 'email', to: ['a@example.com'] }],
    };
    for (const bad of [{ cron: '61 * * * *' }, { timezone: 'Mars/Olympus' }, { format: 'pdf' }, { destinations: [{ kind: 'fax', to: '1' }] }]) {
      const r = await gql(T.alice, CREATE, { i: { ...base, ...bad } });
      expect(r.errors?.[0].extensions?.code, JSON.stringify(bad)).toBe('BAD_USER_INPUT');
    }
    const viewer = await gql(T.viewer, CREATE, { i: base });
    expect(viewer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('an unreachable SMTP server makes a recorded failed run, and nothing else stops', async () => {
    const dead = await freePort();
    const s = server.services;
    const reports = createReportsService({
      store: s.store,
      query: s.query,
      logger: s.logger,
      publicUrl: () => server.url,
      mailer: createMailer({ url: `smtp://127.0.0.1:${dead}`, from: 'x@example.com', timeoutMs: 2_000 }),
      settings: s.config.reports,
    });
    const ctx = {
      requestId: 'test',
      door: 'reports' as const,
      principal: {
        tenantId: 'acme',
        subject: 'alice',
        scopes: new Set(['metrics:read', 'finance:read', 'exports:create', 'reports:write']),
        roles: ['analyst'],
        via: 'jwt' as const,
      },
    };
    const schedule = await reports.schedules.create(ctx, {
      name: 'dead smtp',
      source: { kind: 'query', query: QUERY },
      format: 'csv',
      cron: '0 0 1 1 *',
      timezone: 'Europe/Paris',
      destinations: [{ kind: 'email', to: ['x@example.com'] }],
    });
    const job = {
      id: 'j',
      tenantId: 'acme',
      kind: 'report.schedule',
      payload: { scheduleId: schedule.id, dueAt: new Date().toISOString() },
      attempts: 1,
      maxAttempts: 5,
      runAt: new Date(),
      lockedBy: 'w',
      status: 'running' as const,
      lastError: null,
    };
    await reports.schedules.run({ job, signal: new AbortController().signal, worker: 'w' });
    const [run] = await reports.schedules.runs(ctx, schedule.id);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'DELIVERY_FAILED' });
    expect(run.deliveries[0]).toMatchObject({ kind: 'email', status: 'failed' });
    // The server still answers.
    expect((await ok(T.alice, '{ reportSchedules { id } }')).reportSchedules.length).toBeGreaterThan(0);
  });
});
