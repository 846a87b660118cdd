/**
 * The HTTP server: GraphQL (+ graphql-ws subscriptions) at /graphql, Cube REST under
 * /cubejs-api/v1, ingestion at /v1/ingest/:table, /health, /ready, /metrics; and the SQL proxy
 * on its own port. Doors are mounted here and share the services built in services.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import { readDemoDataset } from './demo/seed.js';
import { demoBannerLines } from './demo/window.js';
import { mintDevToken } from './auth/jwt.js';
import type { Config } from './config.js';
import { withCompression } from './edge/compression.js';
import { HTTP_STATUS, toPublicError } from './edge/errors.js';
import { authenticateHttp, httpRequestId, jsonErrorBody, jsonResponse } from './edge/http.js';
import { PLATFORM_SCOPES } from './auth/principal.js';
import { ForbiddenError } from './errors.js';
import { buildSchema } from './graphql/build-schema.js';
import { createGraphQLServer } from './graphql/server.js';
import { createIngestHandler, INGEST_PATH_PREFIX } from './ingest/http.js';
import { createDownloadHandler, EXPORTS_PATH_PREFIX } from './reports/http.js';
import { createLinkHandler, LINKS_PATH_PREFIX } from './links/http.js';
import { linkAuthenticator } from './links/link-principal.js';
import { withTenantCheck } from './tenancy/tenant-gate.js';
import { createWriterSignals } from './rollups/writer-signals.js';
import { createIngestService } from './ingest/ingest-service.js';
import { createRetentionApplier } from './ingest/plan-retention.js';
import { liveGraphQLContext } from './graphql/subscriptions.js';
import { createDashboardLive } from './live/dashboard-live.js';
import { createLiveService } from './live/live-service.js';
import { createNotifySignals } from './live/signals.js';
import { attachGraphQLWs } from './graphql/ws.js';
import { createRestHandler, REST_BASE_PATH } from './rest/handler.js';
import { createMcpHandler, MCP_PATH } from './mcp/http.js';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_DEV_TENANT, serveGraphiQLAsset } from './graphql/graphiql.js';
import { createStudioHandler, type DevSession, STUDIO_PATH } from './studio/http.js';
import { DEMO_TENANT_IDS, DEMO_TENANTS } from './demo/tenants.js';
import { createReadinessCheck } from './readiness.js';
import { recordRunningServer } from './cli/running-server.js';
import { createServices, type Services } from './services.js';
import { startSqlProxy } from './sqlproxy/server.js';
import { strataExtensions } from './schema-extensions.js';
import { auditedIngest, changeRecorder } from './audit/changes.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly sqlProxyPort?: number;
  readonly services: Services;
  readonly httpServer: Server;
  /**
   * Graceful drain, then stop: /ready answers 503 "draining", no new connections, WebSockets close
   * with 1001, SQL proxy sessions end with 57P01 (after their running statement), in-flight HTTP
   * requests and drain hooks get until `deadlineMs` (epoch ms; default 5 s from now), then the rest is cut.
   */
  close(deadlineMs?: number): Promise<void>;
  /** Work to finish or hand back before exit (schedules, exports when they arrive); awaited up to the deadline. */
  onDrain(hook: DrainHook): void;
  readonly draining: boolean;
}

export type DrainHook = (deadlineMs: number) => Promise<void>;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export async function startServer(services: Services): Promise<RunningServer> {
  const { config, logger, metrics, model, query, engine, store, authenticator } = services;

  const signals = await createNotifySignals(store, { logger });
  // Writers (ingestion, deletion, retention) answer as soon as their rows are in; rollups catch up
  // after, while this tenant's queries here read the facts. Live queries here hear of a write at
  // once, alerts and other instances once the rollups caught up (rollups/writer-signals.ts).
  const writers = createWriterSignals({ signals, rollups: services.rollups, invalidate: (t, cubes) => query.invalidate(t, cubes), logger });
  const writerSignals = writers.signals;
  const live = createLiveService({
    query,
    model,
    config,
    logger,
    metrics,
    signals: writers.immediate,
    catchUp: (tenantId, cubes) => services.rollups.catchUp({ tenantId, cubes }),
  });
  const dashboardLive = createDashboardLive({ query, config, logger, metrics, signals: writers.immediate });
  const ingest = createIngestService({ engine, model, signals: writerSignals, metrics, logger });
  // Alert rules are subscribers of the change signals: a change makes the rules reading it due (reports/alerts.ts),
  // once every instance reads it alike (rollups caught up).
  writers.settled.onChange((e) => void services.reports.alerts.changed(e.tenantId, e.cubes));
  // Plan retention (DATA_RETENTION_ENABLED): every tenant once the warehouse is ready, then on each plan change.
  void services.planRetention?.start(
    createRetentionApplier({ engine, model, signals: writerSignals, logger, planDays: config.retention.planDays }),
    services.warehouse.done,
  );
  const extensions = strataExtensions({ model, live, dashboardLive, store, ingest, query, usage: services.usage, reports: services.reports });
  const downloads = createDownloadHandler(services.reports, { authenticator, trustProxy: config.trustProxy, logger, isDev: config.env === 'development' });
  // Share links: the token is the credential, admitted through the tenant gate like every other one.
  const links = createLinkHandler({
    authenticator: withTenantCheck(linkAuthenticator(store.dashboardLinks), services.tenants),
    links: store.dashboardLinks,
    dashboards: store.dashboards,
    query,
    audit: store.audit,
    trustProxy: config.trustProxy,
    logger,
    isDev: config.env === 'development',
  });
  const schema = buildSchema(model, { extensions });
  const yoga = createGraphQLServer({ model, query, authenticator, config, logger, metrics, schema });
  const rest = createRestHandler({ query, authenticator, config, logger, metrics });
  // Batches through the HTTP door are audited like the GraphQL mutation's (audit/changes.ts).
  const mcp = createMcpHandler({
    query,
    savedQueries: store.savedQueries,
    dashboards: store.dashboards,
    authenticator,
    trustProxy: config.trustProxy,
    logger,
    metrics,
    isDev: config.env === 'development',
  });
  const ingestHandler = createIngestHandler(auditedIngest(ingest, changeRecorder(store.audit)), {
    authenticator,
    trustProxy: config.trustProxy,
    logger,
    isDev: config.env === 'development',
  });

  const studio = config.studio.enabled ? createStudioHandler({ devSessions: studioDevSessions(config) }) : undefined;

  const readiness = createReadinessCheck(engine, store, services.warehouse.notReadyReason, () => services.warehouse.rollupsStatus());
  const routes = createServerAdapter<{ req: IncomingMessage }>(async (request, serverContext) => {
    const url = new URL(request.url);
    const peer = { socketAddress: serverContext.req?.socket?.remoteAddress };
    if (url.pathname.startsWith(`${REST_BASE_PATH}/`) || url.pathname === REST_BASE_PATH) return rest(request, peer);
    if (config.graphiql.enabled && url.pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`)) return serveGraphiQLAsset(request);
    if (url.pathname === '/health' || url.pathname === '/healthz') return json(200, { status: 'ok' });
    if (url.pathname === '/ready' || url.pathname === '/readyz') {
      // Draining: not ready first, so a balancer stops routing here before anything closes.
      if (draining) return json(503, { status: 'draining', ready: false, reason: 'shutting down' });
      const { ready: ok, ...parts } = await withIdentityKeys(readiness, services.identityKeys)();
      return json(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', ...parts }, ok ? {} : { 'retry-after': '2' });
    }
    if (url.pathname === '/metrics') {
      // Operators only: series carry tenant ids. A token with platform:metrics (or platform:admin).
      const requestId = httpRequestId(request);
      try {
        const ctx = await authenticateHttp(request, 'ops', peer, { authenticator, trustProxy: config.trustProxy, logger, requestId });
        if (!Object.values(PLATFORM_SCOPES).some((s) => ctx.principal.scopes.has(s))) {
          throw new ForbiddenError(`/metrics requires scope "${PLATFORM_SCOPES.METRICS}"`, { scopes: [PLATFORM_SCOPES.METRICS] });
        }
        return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
      } catch (e) {
        const pub = toPublicError(e, { logger, requestId, door: 'ops' });
        return jsonResponse(pub.status, jsonErrorBody(pub, requestId, false), { ...pub.headers, 'x-request-id': requestId });
      }
    }
    if (url.pathname.startsWith(INGEST_PATH_PREFIX)) return ingestHandler(request, peer);
    if (url.pathname.startsWith(EXPORTS_PATH_PREFIX)) return downloads(request, peer);
    if (url.pathname.startsWith(LINKS_PATH_PREFIX)) return links(request, peer);
    if (url.pathname === MCP_PATH) return mcp(request, peer);
    if (studio && (url.pathname === STUDIO_PATH || url.pathname.startsWith(`${STUDIO_PATH}/`))) return studio(request);
    if (url.pathname === '/') return Response.redirect(new URL(studio ? STUDIO_PATH : '/graphql', url), 302);
    return json(404, { error: `no route for ${request.method} ${url.pathname}`, code: 'NOT_FOUND' });
  });

  let draining = false;
  const drainHooks: DrainHook[] = [];
  // Background jobs (exports, scheduled reports) finish or are handed back to the queue on drain.
  const jobs = services.jobs;
  if (jobs) drainHooks.push((deadlineMs) => jobs.drain(deadlineMs));
  const httpServer = createServer(
    withCompression((req, res) => {
      // A request answered during the drain closes its connection (no keep-alive reuse).
      if (draining) res.shouldKeepAlive = false;
      if (!req.url?.startsWith('/graphql')) return void routes(req, res, { req });
      if (req.method !== 'POST') return void yoga(req, res);
      // The body is read here, in one piece: yoga then takes it as is instead of streaming the
      // request through a web ReadableStream (measurably cheaper per request), and size is capped.
      readGraphQLBody(req, config.limits.maxGraphQLBodyBytes).then(
        (body) => {
          (req as IncomingMessage & { body?: string }).body = body;
          yoga(req, res);
        },
        (e: Error) => {
          const tooLarge = e instanceof BodyTooLargeError;
          res.writeHead(HTTP_STATUS[tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT'], { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ message: e.message, extensions: { code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT' } }] }));
        },
      );
    }),
  );
  const ws = attachGraphQLWs(httpServer, {
    schema,
    authenticator,
    logger,
    context: liveGraphQLContext({ query, maxRowLimit: config.limits.maxRowLimit, logger }),
    trustProxy: config.trustProxy,
    maxPerConnection: config.live.maxPerConnection,
    limits: config.limits,
    isDev: config.env === 'development',
    path: '/graphql',
    access: services.access,
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  services.setPublicUrl(`http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`);
  // Jobs read the warehouse: they start once it is migrated and seeded (here or by another instance).
  services.warehouse.done.then(
    () => {
      if (!draining) jobs?.start();
    },
    () => undefined,
  );

  const proxy = config.sqlProxy.enabled ? await startSqlProxy({ config: config.sqlProxy, query, authenticator, logger, access: services.access }) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    sqlProxyPort: proxy?.port,
    services,
    httpServer,
    get draining() {
      return draining;
    },
    onDrain(hook) {
      drainHooks.push(hook);
    },
    close(deadlineMs = Date.now() + 5_000) {
      closing ??= (async () => {
        draining = true;
        // Stop accepting (idle keep-alive connections close now); in-flight requests go on.
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections?.();
        const cut = setTimeout(() => httpServer.closeAllConnections?.(), Math.max(0, deadlineMs - Date.now()));
        cut.unref();
        await Promise.all([
          proxy?.close(deadlineMs),
          ws.close(),
          untilDeadline(Promise.all(drainHooks.map((h) => h(deadlineMs))), deadlineMs).catch((e) =>
            logger.error({ err: (e as Error).message }, 'drain hook failed'),
          ),
        ]);
        // Writes answered during the drain still announce themselves (rollups caught up, signal sent).
        await untilDeadline(writers.drain(), deadlineMs).catch(() => undefined);
        await live.close();
        dashboardLive.close();
        await signals.close?.();
        await httpClosed;
        clearTimeout(cut);
        await services.close();
      })();
      return closing;
    },
  };
}

/** `readiness` plus the identity provider's keys: not ready while no JWT can be verified (API keys still work). */
function withIdentityKeys(readiness: ReturnType<typeof createReadinessCheck>, identityKeys: Services['identityKeys']) {
  if (!identityKeys) return readiness;
  return async () => {
    const [r, keys] = await Promise.all([readiness(), identityKeys()]);
    const reason = r.reason ?? (keys.available ? undefined : "the identity provider's signing keys (JWKS) cannot be fetched; JWTs are refused");
    return { ...r, ready: r.ready && keys.available, identityKeys: keys.state, ...(reason ? { reason } : {}) };
  };
}

function untilDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T | undefined> {
  const late = new Promise<undefined>((r) => {
    const timer = setTimeout(r, Math.max(0, deadlineMs - Date.now()));
    void work.finally(() => clearTimeout(timer)).catch(() => undefined);
  });
  return Promise.race([work, late]);
}

class BodyTooLargeError extends Error {}

/** The whole request body as text, refused past `max` bytes (checked on the declared length first). */
function readGraphQLBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () => new BodyTooLargeError(`the request body exceeds ${max} bytes`);
    if (declared > max) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
      } else chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.once('error', reject);
  });
}

/** `strata serve`: build services, start listening, print the banner, stop cleanly on signals. */
export async function serve(config: Config): Promise<void> {
  // Listens before the warehouse is ready (migrations, demo seed — possibly another instance's):
  // /ready says why it is not, data queries answer 503 ENGINE_UNAVAILABLE with Retry-After.
  const services = await createServices(config, { background: true });
  const server = await startServer(services);
  const { logger } = services;
  logger.info({ url: server.url, sqlProxyPort: server.sqlProxyPort, env: config.env }, 'strata listening');
  // The CLI's query/sql go through this server while it holds the embedded engine's directory.
  if (!config.clickhouse.url) recordRunningServer(config.dataDir, server.url);
  // Registered at once: a SIGTERM while the warehouse is still starting drains too.
  const stop = (signal: string) => {
    const deadline = Date.now() + config.drain.timeoutMs;
    logger.info({ signal, drainTimeoutMs: config.drain.timeoutMs }, 'draining, then shutting down');
    // Past the deadline plus time to close the engines, exit anyway.
    const force = setTimeout(() => process.exit(1), config.drain.timeoutMs + 5_000);
    force.unref();
    server.close(deadline).then(
      () => {
        logger.info('drained; exiting');
        process.exit(0);
      },
      (e) => {
        logger.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    await services.warehouse.done;
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
  logger.info('warehouse ready: answering data queries');
  if (config.env === 'development') await printBanner(config, server);
}

const STUDIO_DEV_ROLES = ['analyst'];
const STUDIO_TOKEN_RENEW_MS = 3600_000;

/** Development with a JWT secret: the demo tenants with a 12 h analyst token each, renewed hourly. */
function studioDevSessions(config: Config): (() => Promise<readonly DevSession[]>) | undefined {
  const secret = config.auth.jwtSecret;
  if (config.env !== 'development' || !secret) return undefined;
  let minted: { at: number; sessions: Promise<DevSession[]> } | undefined;
  return () => {
    if (!minted || Date.now() - minted.at > STUDIO_TOKEN_RENEW_MS) {
      const sessions = Promise.all(
        DEMO_TENANTS.map(async (t) => ({
          tenantId: t.id,
          name: t.name,
          roles: STUDIO_DEV_ROLES,
          token: await mintDevToken(secret, {
            tenantId: t.id,
            roles: STUDIO_DEV_ROLES,
            expiresIn: '12h',
            subject: `dev-${t.id}`,
            issuer: config.auth.issuer,
            audience: config.auth.audience,
          }),
        })),
      );
      minted = { at: Date.now(), sessions };
    }
    return minted.sessions;
  };
}

async function printBanner(config: Config, server: RunningServer): Promise<void> {
  const secret = config.auth.jwtSecret;
  const lines = [
    '',
    `Strata ready (${config.env})`,
    ...(config.studio.enabled ? [`  Strata Studio       ${server.url}${STUDIO_PATH}  (catalog, query builder, live dashboards)`] : []),
    config.graphiql.enabled
      ? `  GraphQL + GraphiQL  ${server.url}/graphql${secret ? `  (GraphiQL signed in as ${GRAPHIQL_DEV_TENANT})` : ''}`
      : `  GraphQL             ${server.url}/graphql`,
    `  Cube REST API       ${server.url}${REST_BASE_PATH}`,
    `  Subscriptions       ${server.url.replace('http', 'ws')}/graphql  (graphql-ws)`,
    server.sqlProxyPort
      ? `  SQL proxy           psql "postgresql://acme@${config.sqlProxy.host}:${server.sqlProxyPort}/strata"  (password: a token below)`
      : '  SQL proxy           disabled',
    `  MCP (AI agents)     ${server.url}/mcp  (Streamable HTTP; stdio: STRATA_TOKEN=… npx strata mcp)`,
    `  Metrics / health    ${server.url}/metrics  /health  /ready`,
  ];
  if (config.demo.seed) {
    const dataset = await readDemoDataset(server.services.engine).catch(() => undefined);
    lines.push(...demoBannerLines(dataset, new Date(), config.demo.endDate));
  }
  if (secret) {
    lines.push('  Tokens (analyst role: metrics:read finance:read clients:read, 12h):');
    for (const tenantId of DEMO_TENANT_IDS) {
      lines.push(`    ${tenantId.padEnd(8)} ${await mintDevToken(secret, { tenantId, roles: ['analyst'], expiresIn: '12h', subject: `dev-${tenantId}` })}`);
    }
    lines.push('  Mint others: npx strata token --tenant acme --roles viewer');
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
