/**
 * The HTTP server: GraphQL (+ graphql-ws subscriptions) at /graphql, Cube REST under
 * /cubejs-api/v1, ingestion at /v1/ingest/:table, /health, /ready, /metrics; and the SQL proxy
 * on its own port. Doors are mounted here and share the services built in services.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import { readDemoDataset } from './demo/seed.js';
import { DEMO_TENANT_IDS } from './demo/tenants.js';
import { demoBannerLines } from './demo/window.js';
import { mintDevToken } from './auth/jwt.js';
import type { Config } from './config.js';
import { withCompression } from './edge/compression.js';
import { HTTP_STATUS } from './edge/errors.js';
import { buildSchema } from './graphql/build-schema.js';
import { createGraphQLServer } from './graphql/server.js';
import { createIngestHandler, INGEST_PATH_PREFIX } from './ingest/http.js';
import { createIngestService } from './ingest/ingest-service.js';
import { liveGraphQLContext } from './graphql/subscriptions.js';
import { createLiveService } from './live/live-service.js';
import { createNotifySignals } from './live/signals.js';
import { attachGraphQLWs } from './graphql/ws.js';
import { createRestHandler, REST_BASE_PATH } from './rest/handler.js';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_DEV_TENANT, serveGraphiQLAsset } from './graphql/graphiql.js';
import { createReadinessCheck } from './readiness.js';
import { createServices, type Services } from './services.js';
import { startSqlProxy } from './sqlproxy/server.js';
import { strataExtensions } from './schema-extensions.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly sqlProxyPort?: number;
  readonly services: Services;
  readonly httpServer: Server;
  close(): Promise<void>;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export async function startServer(services: Services): Promise<RunningServer> {
  const { config, logger, metrics, model, query, engine, store, authenticator } = services;

  const signals = await createNotifySignals(store, { logger });
  const live = createLiveService({ query, model, config, logger, metrics, signals });
  const ingest = createIngestService({ engine, model, signals, metrics, logger });
  const extensions = strataExtensions({ model, live, store, ingest, query });
  const schema = buildSchema(model, { extensions });
  const yoga = createGraphQLServer({ model, query, authenticator, config, logger, metrics, schema });
  const rest = createRestHandler({ query, authenticator, config, logger, metrics });
  const ingestHandler = createIngestHandler(ingest, { authenticator, trustProxy: config.trustProxy, logger, isDev: config.env === 'development' });

  const readiness = createReadinessCheck(engine, store);
  const routes = createServerAdapter<{ req: IncomingMessage }>(async (request, serverContext) => {
    const url = new URL(request.url);
    const peer = { socketAddress: serverContext.req?.socket?.remoteAddress };
    if (url.pathname.startsWith(`${REST_BASE_PATH}/`) || url.pathname === REST_BASE_PATH) return rest(request, peer);
    if (config.graphiql.enabled && url.pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`)) return serveGraphiQLAsset(request);
    if (url.pathname === '/health' || url.pathname === '/healthz') return json(200, { status: 'ok' });
    if (url.pathname === '/ready' || url.pathname === '/readyz') {
      const { ready: ok, ...parts } = await readiness();
      return json(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', ...parts });
    }
    if (url.pathname === '/metrics') {
      return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
    }
    if (url.pathname.startsWith(INGEST_PATH_PREFIX)) return ingestHandler(request, peer);
    if (url.pathname === '/') return Response.redirect(new URL('/graphql', url), 302);
    return json(404, { error: `no route for ${request.method} ${url.pathname}`, code: 'NOT_FOUND' });
  });

  const httpServer = createServer(
    withCompression((req, res) => {
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
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;

  const proxy = config.sqlProxy.enabled ? await startSqlProxy({ config: config.sqlProxy, query, authenticator, logger }) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    port,
    sqlProxyPort: proxy?.port,
    services,
    httpServer,
    close() {
      closing ??= (async () => {
        await proxy?.close();
        await ws.close();
        await live.close();
        await signals.close?.();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections?.();
          setTimeout(() => httpServer.closeAllConnections?.(), 5_000).unref();
        });
        await services.close();
      })();
      return closing;
    },
  };
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
  const services = await createServices(config);
  const server = await startServer(services);
  const { logger } = services;
  logger.info({ url: server.url, sqlProxyPort: server.sqlProxyPort, env: config.env }, 'strata listening');
  if (config.env === 'development') await printBanner(config, server);
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (e) => {
        logger.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function printBanner(config: Config, server: RunningServer): Promise<void> {
  const secret = config.auth.jwtSecret;
  const lines = [
    '',
    `Strata ready (${config.env})`,
    config.graphiql.enabled
      ? `  GraphQL + GraphiQL  ${server.url}/graphql${secret ? `  (GraphiQL signed in as ${GRAPHIQL_DEV_TENANT})` : ''}`
      : `  GraphQL             ${server.url}/graphql`,
    `  Cube REST API       ${server.url}${REST_BASE_PATH}`,
    `  Subscriptions       ${server.url.replace('http', 'ws')}/graphql  (graphql-ws)`,
    server.sqlProxyPort
      ? `  SQL proxy           psql "postgresql://acme@${config.sqlProxy.host}:${server.sqlProxyPort}/strata"  (password: a token below)`
      : '  SQL proxy           disabled',
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
