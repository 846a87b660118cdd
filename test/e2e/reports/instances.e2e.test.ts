/**
 * Two `strata serve` processes on one Postgres server (a fresh database) and one warehouse (the
 * ClickHouse-HTTP adapter over one chDB directory), sharing the durable job queue. A schedule due
 * once fires once (SMTP messages counted in this process), and SIGKILL of the instance running a
 * job makes the other one finish it once the lease runs out: the webhook receiver holds the first
 * delivery open, so "the job is running on X" is a state the test sees, not a race it hopes for.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import type { Db } from '../../../src/store/db.js';
import { type ClickhouseHttp, startClickhouseHttp } from '../../helpers/clickhouse-http.js';
import { freePort, type ServerProcess, startServerProcess, TEST_JWT_SECRET } from '../../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../../integration/store/backends.js';

const QUERY = { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'] };

let clickhouse: ClickhouseHttp;
let pg: TestDatabase;
let db: Db;
let smtp: SMTPServer;
let hooks: Server;
let servers: ServerProcess[] = [];
let token: string;
const mails: string[] = [];
/** Webhook requests; `hold` keeps the first one per schedule open (the job is then running). */
const held = new Map<string, ServerResponse>();
const delivered: { schedule: string; worker?: string }[] = [];

async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const onceIn = (seconds: number) => {
  const d = new Date(Date.now() + seconds * 1000);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
};
const CREATE = 'mutation($i: ReportScheduleInput!) { createReportSchedule(input: $i) { id } }';
const RUNS = 'query($id: ID!) { reportRuns(scheduleId: $id) { status attempt } }';

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        mails.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
  hooks = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const schedule = JSON.parse(body).schedule.id as string;
      if (req.url === '/hold' && !held.has(schedule)) {
        held.set(schedule, res); // never answered: the instance that sent it is killed
        return;
      }
      delivered.push({ schedule });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));

  [clickhouse, pg] = await Promise.all([startClickhouseHttp(), createTestDatabase('postgres')]);
  db = await pg.open();
  token = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['analyst'], expiresIn: '1h', subject: 'e2e' });
  const env = (name: string) => ({
    DATABASE_URL: pg.options.url as string,
    CLICKHOUSE_URL: clickhouse.url,
    CLICKHOUSE_DATABASE: 'strata',
    SQL_PROXY_ENABLED: 'false',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    // The test's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    JOBS_POLL_MS: '200',
    JOBS_LEASE_MS: '1500',
    JOBS_WORKER_ID: name,
    SCHEDULE_MIN_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'warn',
  });
  servers = await Promise.all([startServerProcess(env('a')), startServerProcess(env('b'))]);
}, 240_000);

afterAll(async () => {
  for (const res of held.values()) res.destroy();
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await db?.close();
  await pg?.drop();
  await clickhouse?.stop();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  hooks?.close();
});

describe('two instances, one job queue', () => {
  it('a schedule due once fires once', async () => {
    const [a, b] = servers;
    const once = await gql(a.url, CREATE, {
      i: {
        name: 'once',
        source: { kind: 'query', query: QUERY },
        format: 'csv',
        cron: onceIn(3),
        timezone: 'UTC',
        destinations: [{ kind: 'email', to: ['once@example.com'] }],
      },
    });
    await until(
      async () => ((await gql(b.url, RUNS, { id: once.createReportSchedule.id })).reportRuns[0]?.status === 'succeeded' ? true : undefined),
      'the run',
    );
    // A later schedule fires too: by then both instances have polled past the first one's due time many times.
    const later = await gql(b.url, CREATE, {
      i: {
        name: 'later',
        source: { kind: 'query', query: QUERY },
        format: 'csv',
        cron: onceIn(3),
        timezone: 'UTC',
        destinations: [{ kind: 'email', to: ['later@example.com'] }],
      },
    });
    await until(
      async () => ((await gql(a.url, RUNS, { id: later.createReportSchedule.id })).reportRuns[0]?.status === 'succeeded' ? true : undefined),
      'the later run',
    );
    expect(mails.filter((m) => m === 'once@example.com')).toHaveLength(1);
    expect(mails.filter((m) => m === 'later@example.com')).toHaveLength(1);
    const runs = (await gql(a.url, RUNS, { id: once.createReportSchedule.id })).reportRuns;
    expect(runs).toEqual([{ status: 'succeeded', attempt: 1 }]);
  });

  it('SIGKILL of the instance running a job: the other one finishes it', async () => {
    const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hold`;
    const created = await gql(servers[0].url, CREATE, {
      i: {
        name: 'crash',
        source: { kind: 'query', query: QUERY },
        format: 'csv',
        cron: onceIn(3),
        timezone: 'UTC',
        destinations: [{ kind: 'webhook', url: hookUrl }],
      },
    });
    const id = created.createReportSchedule.id as string;
    await until(async () => (held.has(id) ? true : undefined), 'the first delivery');
    const [job] = await db.query<{ locked_by: string }>("SELECT locked_by FROM jobs WHERE kind = 'report.schedule' AND payload->>'scheduleId' = $1", [id]);
    const victim = job.locked_by.startsWith('a-') ? 0 : 1;
    servers[victim].signal('SIGKILL');
    await servers[victim].exited;
    const survivor = servers[1 - victim];
    const runs = await until(async () => {
      const r = (await gql(survivor.url, RUNS, { id })).reportRuns;
      return r[0]?.status === 'succeeded' ? r : undefined;
    }, 'the run finished by the survivor');
    expect(runs).toEqual([{ status: 'succeeded', attempt: 2 }]);
    expect(delivered.filter((d) => d.schedule === id)).toHaveLength(1);
    const [done] = await db.query<{ status: string; locked_by: string; attempts: number }>(
      "SELECT status, locked_by, attempts FROM jobs WHERE kind = 'report.schedule' AND payload->>'scheduleId' = $1",
      [id],
    );
    expect(done.status).toBe('done');
    expect(done.locked_by.startsWith(victim === 0 ? 'b-' : 'a-')).toBe(true);
    expect(Number(done.attempts)).toBe(2);
  });
});
