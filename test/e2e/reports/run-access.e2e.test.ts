/**
 * Schedules and alerts run as their author, re-checked at every run: a suspended tenant's runs and
 * a revoked key's or a narrowed role's runs deliver nothing and are recorded with a code. Over the
 * real server (chDB, PGlite, demo warehouse), a real SMTP server and a real webhook receiver in this
 * process; each refusal is shown next to a run that did deliver under the same conditions otherwise.
 */
import { createServer, type Server } from 'node:http';
import { SignJWT } from 'jose';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';
import { freePort } from '../../helpers/server-process.js';

const QUERY = {
  measures: ['ad_performance.clicks'],
  dimensions: ['ad_performance.platform'],
  timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-09-01', '2026-09-30'] }],
};
/** Holds for every platform: the first evaluation fires one event per platform. */
const HOLDS = { kind: 'threshold', measure: 'ad_performance.clicks', op: '>', value: 0 };

let app: InProcessServer;
let smtp: SMTPServer;
let hooks: Server;
let hookBase: string;
const mails: string[] = [];
const hits: string[] = [];

const store = () => app.server.services.store;

async function jwt(tenant: string, sub: string, roles: string[]) {
  return new SignJWT({ tenant_id: tenant, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(app.jwtSecret));
}

async function ok(tok: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${app.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A 6-field cron that matches once, `seconds` from now (UTC). */
const onceIn = (seconds: number) => {
  const d = new Date(Date.now() + seconds * 1000);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
};

const CREATE_SCHEDULE = 'mutation($i: ReportScheduleInput!) { createReportSchedule(input: $i) { id } }';
const CREATE_ALERT = 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }';

function schedule(tok: string, name: string, destinations: unknown[]): Promise<string> {
  return ok(tok, CREATE_SCHEDULE, {
    i: { name, source: { kind: 'query', query: QUERY }, format: 'csv', cron: onceIn(4), timezone: 'UTC', destinations },
  }).then((d) => d.createReportSchedule.id as string);
}

/** The schedule's single run, once it has finished. */
function finishedRun(tenant: string, id: string) {
  return until(async () => {
    const [run] = await store().reports.listRuns(tenant, id);
    return run && run.status !== 'running' ? run : undefined;
  }, `the run of ${id}`);
}

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
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(String(req.url));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(hooks.address() as { port: number }).port}`;
  app = await startInProcessServer('run-access', {
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    JOBS_POLL_MS: '100',
    SCHEDULE_MIN_INTERVAL_SECONDS: '0',
    WEBHOOK_RETRY_BASE_MS: '10',
    // The test's receivers listen on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
}, 180_000);

afterAll(async () => {
  await app?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  hooks?.close();
});

describe('runs re-check the author and the tenant', () => {
  it('a revoked API key: its schedule records AUTHOR_ACCESS_REVOKED and delivers nothing; a working key delivers', async () => {
    const scopes = ['metrics:read', 'reports:write', 'exports:create'];
    const kept = await store().apiKeys.create('acme', { name: 'kept', scopes, createdBy: 'test' });
    const gone = await store().apiKeys.create('acme', { name: 'gone', scopes, createdBy: 'test' });
    const keptId = await schedule(kept.secret, 'by kept key', [{ kind: 'webhook', url: `${hookBase}/kept` }]);
    const goneId = await schedule(gone.secret, 'by revoked key', [{ kind: 'webhook', url: `${hookBase}/gone` }]);
    const admin = await jwt('acme', 'adam', ['tenant_admin']);
    expect((await ok(admin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: gone.key.id })).revokeApiKey).toBe(true);

    const [keptRun, goneRun] = await Promise.all([finishedRun('acme', keptId), finishedRun('acme', goneId)]);
    expect(keptRun.status).toBe('succeeded');
    expect(goneRun).toMatchObject({
      status: 'failed',
      errorCode: 'AUTHOR_ACCESS_REVOKED',
      error: `the API key that saved this (${gone.key.id}) was revoked or has expired`,
      deliveries: [],
    });
    expect(hits.filter((h) => h === '/kept')).toHaveLength(1);
    expect(hits.filter((h) => h === '/gone')).toHaveLength(0);
    // The refusal is in the tenant's audit trail.
    await store().audit.flush();
    const refusals = (await store().audit.list('acme', { limit: 500 })).filter((a) => a.action === 'schedule.run');
    expect(refusals.map((a) => [a.target, a.errorCode])).toContainEqual([goneId, 'AUTHOR_ACCESS_REVOKED']);
  });

  it('a suspended tenant: its schedule and its alert record TENANT_SUSPENDED and send nothing', async () => {
    const gina = await jwt('globex', 'gina', ['analyst']);
    const id = await schedule(gina, 'globex weekly', [{ kind: 'email', to: ['globex-weekly@example.com'] }]);
    const rule = await ok(gina, CREATE_ALERT, {
      i: {
        name: 'globex clicks',
        source: { kind: 'query', query: QUERY },
        condition: HOLDS,
        enabled: false,
        destinations: [{ kind: 'webhook', url: `${hookBase}/globex` }],
      },
    });
    const ruleId = rule.createAlertRule.id as string;
    await store().tenants.update('globex', { status: 'suspended' });
    try {
      await store().alerts.updateRule('globex', ruleId, { enabled: true, nextEvalAt: new Date() });
      const run = await finishedRun('globex', id);
      expect(run).toMatchObject({
        status: 'failed',
        errorCode: 'TENANT_SUSPENDED',
        error: 'tenant "globex" is suspended: its scheduled runs and alerts do not run',
      });
      const r = await until(async () => (await store().alerts.getRule('globex', ruleId))?.lastError ?? undefined, 'the refused evaluation');
      expect(r).toMatchObject({ code: 'TENANT_SUSPENDED', message: 'tenant "globex" is suspended: its scheduled runs and alerts do not run' });
      expect(await store().alerts.listStates('globex', ruleId)).toEqual([]);
      expect(await store().alerts.listEvents('globex', ruleId)).toEqual([]);
      // A paused tenant's schedule is not counted as failing (it resumes as it was).
      expect((await store().reports.getSchedule('globex', id))?.failures).toBe(0);
      expect(mails.filter((m) => m === 'globex-weekly@example.com')).toHaveLength(0);
      expect(hits.filter((h) => h === '/globex')).toHaveLength(0);
    } finally {
      await store().tenants.update('globex', { status: 'active' });
    }
  });

  it("a tenant role narrowed past alerts:write: the rule's evaluation is refused and notifies nobody; given back, it fires", async () => {
    await store().roles.put('acme', { name: 'marketer', scopes: ['metrics:read', 'alerts:write'], createdBy: 'test' });
    const mia = await jwt('acme', 'mia', ['marketer']);
    const created = await ok(mia, CREATE_ALERT, {
      i: {
        name: 'clicks',
        source: { kind: 'query', query: QUERY },
        condition: HOLDS,
        enabled: false,
        destinations: [{ kind: 'webhook', url: `${hookBase}/role` }],
      },
    });
    const id = created.createAlertRule.id as string;
    await store().roles.put('acme', { name: 'marketer', scopes: ['metrics:read'], createdBy: 'test' });
    await store().alerts.updateRule('acme', id, { enabled: true, nextEvalAt: new Date() });
    const refused = await until(async () => (await store().alerts.getRule('acme', id))?.lastError ?? undefined, 'the refused evaluation');
    expect(refused).toMatchObject({ code: 'AUTHOR_ACCESS_REVOKED', message: 'the author (mia) no longer holds alerts:write' });
    // The tenant's admins read why through the API.
    const admin = await jwt('acme', 'ann', ['tenant_admin']);
    const listed = (await ok(admin, '{ alertRules { id lastError } }')).alertRules as { id: string; lastError: { code: string } | null }[];
    expect(listed.find((r) => r.id === id)?.lastError).toMatchObject({ code: 'AUTHOR_ACCESS_REVOKED' });
    expect(await store().alerts.listEvents('acme', id)).toEqual([]);

    // The same rule with the role given back: it evaluates, fires per platform and notifies each once.
    await store().roles.put('acme', { name: 'marketer', scopes: ['metrics:read', 'alerts:write'], createdBy: 'test' });
    await store().alerts.updateRule('acme', id, { nextEvalAt: new Date() });
    const events = await until(async () => {
      const e = await store().alerts.listEvents('acme', id);
      return e.length > 0 && e.every((x) => x.deliveries) ? e : undefined;
    }, 'the notifications');
    expect(events.every((e) => e.event === 'firing' && e.deliveries?.[0]?.status === 'delivered')).toBe(true);
    expect(hits.filter((h) => h === '/role')).toHaveLength(events.length);
    expect((await store().alerts.getRule('acme', id))?.lastError).toBeNull();
  });
});
