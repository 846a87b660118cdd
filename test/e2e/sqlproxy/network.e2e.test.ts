/**
 * The SQL proxy behind a network: `strata serve` as a process listening on 0.0.0.0, reached through
 * this machine's non-loopback address (so the proxy sees a remote client, as in docker compose).
 * - with a mounted certificate (SQL_PROXY_TLS_CERT/KEY, self-signed, generated here by openssl):
 *   node-postgres with ssl and `psql "sslmode=require"` log in and read; a cleartext client is refused;
 * - with SQL_PROXY_ALLOW_CLEARTEXT_NETWORK=true (no TLS): a cleartext client logs in, and the server
 *   warned about it at start.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

const run = promisify(execFile);

/** An IPv4 address of this machine that is not loopback: connections to it come from a non-loopback source. */
const remoteHost = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const hasPsql = (() => {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const certDir = mkdtempSync(join(tmpdir(), 'strata-tls-e2e-'));
let tlsServer: ServerProcess;
let openServer: ServerProcess;
let token: string;

beforeAll(async () => {
  if (!remoteHost) return;
  // A self-signed certificate, as an operator would mount one (CN/SAN are not checked by sslmode=require).
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(certDir, 'tls.key'),
    '-out',
    join(certDir, 'tls.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=strata-sqlproxy',
    '-addext',
    `subjectAltName=IP:${remoteHost}`,
  ]);
  // No seed registers acme: the tenant registry creates it on first sight.
  const common = { SQL_PROXY_HOST: '0.0.0.0', SEED_DEMO: 'false', TENANT_AUTO_PROVISION: 'true' };
  [tlsServer, openServer] = await Promise.all([
    startServerProcess({ ...common, SQL_PROXY_TLS_CERT: join(certDir, 'tls.crt'), SQL_PROXY_TLS_KEY: join(certDir, 'tls.key') }),
    startServerProcess({ ...common, SQL_PROXY_ALLOW_CLEARTEXT_NETWORK: 'true' }),
  ]);
  token = await mintDevToken(tlsServer.jwtSecret, { tenantId: 'acme', roles: ['analyst'], expiresIn: '10m', subject: 'network-e2e' });
}, 180_000);

afterAll(async () => {
  await Promise.all([tlsServer?.stop(), openServer?.stop()]);
  rmSync(certDir, { recursive: true, force: true });
});

/** The connection string alone decides the SSL mode (no PGSSLMODE from the environment). */
function psqlEnv(): NodeJS.ProcessEnv {
  const { PGSSLMODE: _ignored, ...env } = process.env;
  return { ...env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '10' };
}

function client(port: number, ssl: pg.ClientConfig['ssl']): pg.Client {
  return new pg.Client({ host: remoteHost, port, user: 'bi', database: 'strata', password: token, ssl });
}

/** Logs in and runs a semantic query (an empty warehouse: SEED_DEMO=false keeps the start fast). */
async function totalClicks(c: pg.Client): Promise<number> {
  await c.connect();
  try {
    const r = await c.query('SELECT SUM(clicks) AS n FROM ad_performance');
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

describe.skipIf(!remoteHost)(`SQL proxy reached over the network (${remoteHost ?? 'no non-loopback address'})`, () => {
  it('TLS: node-postgres with ssl (rejectUnauthorized: false = sslmode=require) logs in and queries', async () => {
    expect(await totalClicks(client(tlsServer.sqlProxyPort, { rejectUnauthorized: false }))).toBe(0);
  });

  it('TLS: the certificate served is the mounted one', async () => {
    const c = client(tlsServer.sqlProxyPort, { rejectUnauthorized: false });
    await c.connect();
    try {
      const socket = (c as unknown as { connection: { stream: import('node:tls').TLSSocket } }).connection.stream;
      expect(socket.encrypted).toBe(true);
      expect(socket.getPeerCertificate().subject.CN).toBe('strata-sqlproxy');
    } finally {
      await c.end();
    }
  });

  it.skipIf(!hasPsql)('TLS: psql "sslmode=require" logs in and queries', async () => {
    const { stdout } = await run(
      'psql',
      [
        `host=${remoteHost} port=${tlsServer.sqlProxyPort} user=bi dbname=strata sslmode=require`,
        '-X',
        '-A',
        '-t',
        '-c',
        'SELECT SUM(clicks) FROM ad_performance',
      ],
      { env: psqlEnv() },
    );
    expect(stdout.trim()).toMatch(/^0?$/);
  });

  it.skipIf(!hasPsql)('TLS: psql "sslmode=disable" from the network is refused (the password never travels in clear)', async () => {
    const r = await run(
      'psql',
      [`host=${remoteHost} port=${tlsServer.sqlProxyPort} user=bi dbname=strata sslmode=disable`, '-X', '-A', '-t', '-c', 'SELECT 1'],
      {
        env: psqlEnv(),
      },
    ).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(r).toContain('SSL connection is required');
  });

  it('TLS configured, default settings: a cleartext client from the network is refused with 28000', async () => {
    const err = await totalClicks(client(tlsServer.sqlProxyPort, false)).then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    );
    expect(err?.code).toBe('28000');
    expect(err?.message).toMatch(/SSL connection is required/);
    expect(tlsServer.output()).not.toContain('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK is on');
  });

  it('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK=true: a cleartext client from the network logs in, and the start logged a warning', async () => {
    expect(await totalClicks(client(openServer.sqlProxyPort, false))).toBe(0);
    const warning = openServer
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.msg.includes('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK is on'));
    expect(warning?.level).toBe(40); // pino "warn"
  });

  it.skipIf(!hasPsql)('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK=true without TLS: psql "sslmode=require" is told the server has no SSL', async () => {
    const r = await run('psql', [`host=${remoteHost} port=${openServer.sqlProxyPort} user=bi dbname=strata sslmode=require`, '-X', '-c', 'SELECT 1'], {
      env: psqlEnv(),
    }).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(r).toMatch(/server does not support SSL/);
  });
});
