/**
 * Strata's Postgres-compatible door. BI tools connect as to Postgres; cubes and views are tables;
 * every SELECT over them becomes a SemanticQuery run by the query service. User SQL never
 * reaches ClickHouse.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Authenticator } from '../auth/authenticator.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { QueryService } from '../query/types.js';
import type { AccessWatch } from '../tenancy/access-watch.js';
import { CatalogEngines } from './catalog-db.js';
import { Connection, SHUTDOWN_MESSAGE } from './connection.js';
import { loadParser } from './parse.js';
import { SQLSTATE } from './sql-error.js';

export interface SqlProxyDeps {
  readonly config: Omit<Config['sqlProxy'], 'allowCleartextNetwork' | 'rowLimits' | 'connections'> & {
    readonly allowCleartextNetwork?: boolean;
    readonly connections?: Config['sqlProxy']['connections'];
    readonly rowLimits?: Config['sqlProxy']['rowLimits'];
  };
  readonly query: QueryService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** Ends sessions whose access ended (tenancy/access-watch.ts). */
  readonly access?: AccessWatch;
}

/** SQL_PROXY_MAX_CONNECTIONS / SQL_PROXY_MAX_CONNECTIONS_PER_TENANT defaults. */
export const DEFAULT_CONNECTION_LIMITS = { max: 200, perTenant: 50 } as const;

export interface SqlProxy {
  readonly port: number;
  /**
   * Stops accepting; idle sessions end at once with FATAL 57P01 admin_shutdown, sessions running a
   * statement are answered first, then ended the same way; at `deadlineMs` (epoch ms; default now)
   * what still runs is cancelled and ended with 57P01.
   */
  close(deadlineMs?: number): Promise<void>;
}

export async function startSqlProxy(deps: SqlProxyDeps): Promise<SqlProxy> {
  const { config, logger } = deps;
  await loadParser();
  let tls: SecureContext | undefined;
  if (config.tlsCert && config.tlsKey) {
    tls = createSecureContext({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) });
  }
  const engines = new CatalogEngines({ logger });
  // PGlite's initdb takes seconds: done now, once, the first catalog query's engine boots in ~0.6 s.
  void engines.warm();
  const connections = new Map<number, Connection>();
  const sockets = new Set<Socket>();
  /** Every session, authenticated or not (connections holds the authenticated ones, by pid). */
  const sessions = new Set<Connection>();

  const limits = {
    max: config.connections?.max ?? DEFAULT_CONNECTION_LIMITS.max,
    perTenant: config.connections?.perTenant ?? DEFAULT_CONNECTION_LIMITS.perTenant,
  };
  const admit = (conn: Connection, stage: 'global' | 'tenant', tenantId?: string): string | undefined => {
    if (stage === 'global') return sockets.size > limits.max ? 'sorry, too many clients already' : undefined;
    let mine = 0;
    for (const c of connections.values()) if (c !== conn && c.tenantId === tenantId) mine++;
    return mine >= limits.perTenant ? `too many connections for tenant "${tenantId}"` : undefined;
  };

  const server: Server = createServer((socket) => {
    // Far past the limit (a flood of sockets), not even a FATAL is worth writing.
    if (sockets.size >= limits.max * 2) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    const session = new Connection(socket, {
      query: deps.query,
      authenticator: deps.authenticator,
      logger,
      engines,
      tls,
      allowCleartextNetwork: config.allowCleartextNetwork,
      rowLimits: config.rowLimits,
      access: deps.access,
      register: (c) => connections.set(c.pid, c),
      unregister: (c) => {
        if (connections.get(c.pid) === c) connections.delete(c.pid);
      },
      admit,
      cancel: (pid, secret) => {
        const target = connections.get(pid);
        // A wrong secret is ignored silently, as Postgres does.
        if (target && target.secret === secret) target.cancel();
      },
    });
    sessions.add(session);
    socket.on('close', () => {
      sockets.delete(socket);
      sessions.delete(session);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, tls: Boolean(tls), allowCleartextNetwork: Boolean(config.allowCleartextNetwork) }, 'sqlproxy listening');
  if (config.allowCleartextNetwork) {
    logger.warn(
      { host: config.host, port },
      'sqlproxy: SQL_PROXY_ALLOW_CLEARTEXT_NETWORK is on: passwords (API keys, JWTs) from remote clients are accepted without TLS; use it only on a trusted private network',
    );
  } else if (!tls && !isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host, port },
      'sqlproxy: no TLS configured (SQL_PROXY_TLS_CERT/KEY): remote clients will be refused; only loopback connections can log in',
    );
  }

  return {
    port,
    async close(deadlineMs = Date.now()) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of sessions) c.shutdown();
      // Sessions end as their running statements finish; wait for them up to the deadline.
      while ([...sessions].some((c) => !c.isClosed()) && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, 25));
      for (const c of sessions) c.terminate(SQLSTATE.ADMIN_SHUTDOWN, SHUTDOWN_MESSAGE);
      // Each FATAL is written before its socket goes (an idle psql does not read, so never closes its side).
      for (const s of sockets) s.destroySoon();
      await stopped;
      await engines.close();
    },
  };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
