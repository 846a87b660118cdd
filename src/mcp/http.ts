/**
 * MCP over Streamable HTTP at /mcp, stateless: every POST is authenticated by the shared edge
 * (credential -> principal, tenant registry, request id, client address), charged to the tenant's
 * rate limit, and answered by a server built for that principal (JSON responses, no session).
 * GET (a server-initiated stream) and DELETE (a session) have nothing to serve: 405.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { TrustProxy } from '../edge/client-address.js';
import { toPublicError } from '../edge/errors.js';
import { authenticateHttp, type HttpPeer, httpRequestId, jsonErrorBody, jsonResponse } from '../edge/http.js';
import type { Metrics } from '../metrics.js';
import { createMcpServer } from './server.js';
import type { McpToolDeps } from './tools.js';

export const MCP_PATH = '/mcp';

export interface McpHttpDeps extends McpToolDeps {
  readonly authenticator: Authenticator;
  readonly trustProxy: TrustProxy;
  readonly metrics?: Metrics;
  readonly isDev: boolean;
}

export function createMcpHandler(deps: McpHttpDeps): (request: Request, peer?: HttpPeer) => Promise<Response> {
  const { logger } = deps;
  return async (request, peer = {}) => {
    const started = performance.now();
    const requestId = httpRequestId(request);
    let response: Response;
    try {
      const ctx = await authenticateHttp(request, 'mcp', peer, { authenticator: deps.authenticator, trustProxy: deps.trustProxy, logger, requestId });
      if (request.method !== 'POST') {
        response = jsonResponse(
          405,
          { error: `${request.method} is not served: this MCP endpoint is stateless, POST JSON-RPC to it`, code: 'BAD_USER_INPUT', requestId },
          { allow: 'POST', 'x-request-id': requestId },
        );
      } else {
        deps.query.admit(ctx);
        const server = createMcpServer(deps, () => ctx);
        const transport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: true,
          maxRequestBodySize: 1_048_576,
        });
        await server.connect(transport);
        response = await transport.handleRequest(request);
        // Stateless: the server lives for this request only.
        void server.close().catch(() => undefined);
      }
    } catch (e) {
      const pub = toPublicError(e, { logger, requestId, door: 'mcp' });
      response = jsonResponse(pub.status, jsonErrorBody(pub, requestId, deps.isDev), { ...pub.headers, 'x-request-id': requestId });
    }
    deps.metrics?.requests.inc({ door: 'mcp', operation: request.method, status: String(response.status) });
    deps.metrics?.requestSeconds.observe({ door: 'mcp', operation: request.method }, (performance.now() - started) / 1000);
    return response;
  };
}
