/**
 * `strata mcp`: MCP over stdio for desktop agents, acting with one credential (STRATA_TOKEN: a JWT
 * or an API key). Two ways, the same tools:
 *  - relay: beside a running server (STRATA_URL, or the one holding DATA_DIR), every message goes to
 *    its /mcp with the credential, so that server's edge authenticates, limits and audits it;
 *  - in-process: the credential is verified once by the same authenticator every door uses (tenant
 *    registry included), and each tool call runs as a fresh request (door "mcp") through the query service.
 * stdout carries the protocol only: logs go to stderr.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Authenticator } from '../auth/authenticator.js';
import { createRequestContext } from '../edge/context.js';
import type { Logger } from '../logger.js';
import { MCP_PATH } from './http.js';
import { createMcpServer } from './server.js';
import type { McpToolDeps } from './tools.js';

/** Serves stdio until stdin closes. */
export async function serveStdio(deps: McpToolDeps & { readonly authenticator: Authenticator }, credential: string): Promise<void> {
  const principal = await deps.authenticator.authenticate(credential, { door: 'mcp', userAgent: 'strata mcp (stdio)' });
  const server = createMcpServer(deps, () => {
    const ctx = createRequestContext({ door: 'mcp', principal, userAgent: 'strata mcp (stdio)' });
    deps.query.admit(ctx);
    return ctx;
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}

/** Relays stdio to a running server's /mcp until stdin closes. */
export async function relayStdio(serverUrl: string, credential: string, logger: Logger): Promise<void> {
  const up = new StreamableHTTPClientTransport(new URL(MCP_PATH, serverUrl), { requestInit: { headers: { authorization: `Bearer ${credential}` } } });
  const down = new StdioServerTransport();
  up.onmessage = (m) => void down.send(m).catch(() => undefined);
  up.onerror = (e) => logger.warn({ err: e.message }, 'mcp relay: server error');
  down.onmessage = (m: JSONRPCMessage) => {
    up.send(m).catch((e: Error) => {
      // A request must get an answer, or the agent waits forever.
      if ('id' in m && 'method' in m) void down.send({ jsonrpc: '2.0', id: m.id, error: { code: -32000, message: `Strata at ${serverUrl}: ${e.message}` } });
    });
  };
  const closed = new Promise<void>((resolve) => {
    down.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await up.start();
  await down.start();
  await closed;
  await up.close().catch(() => undefined);
}
