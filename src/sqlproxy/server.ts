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
import { CatalogEngines } from './catalog-db.js';
import { Connection } from './connection.js';
import { loadParser } from './parse.js';

export interface SqlProxyDeps {
  readonly config: Omit<Config['sqlProxy'], 'allowCleartextNetwork'> & { readonly allowCleartextNetwork?: boolean };
  readonly query: QueryService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
}

export interface SqlProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function startSqlProxy(deps: SqlProxyDeps): Promise<SqlProxy> {
  const { config, logger } = deps;
  await loadParser();
  let tls: SecureContext | undefined;
  if (config.tlsCert && config.tlsKey) {
    tls = createSecureContext({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) });
  }
  const engines = new CatalogEngines({ logger });
  const connections = new Map<number, Connection>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, {
      query: deps.query,
      authenticator: deps.authenticator,
      logger,
      engines,
      tls,
      allowCleartextNetwork: config.allowCleartextNetwork,
      register: (c) => connections.set(c.pid, c),
      unregister: (c) => {
        if (connections.get(c.pid) === c) connections.delete(c.pid);
      },
      cancel: (pid, secret) => {
        const target = connections.get(pid);
        // A wrong secret is ignored silently, as Postgres does.
        if (target && target.secret === secret) target.cancel();
      },
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
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections.values()) c.close();
        for (const s of sockets) s.destroy();
      });
      await engines.close();
    },
  };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
