/** One McpServer per caller: the tools see only that caller's principal. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestContext } from '../query/types.js';
import { type McpToolDeps, registerTools } from './tools.js';

export const MCP_INSTRUCTIONS =
  "Strata answers marketing questions over a semantic layer scoped to your tenant. Typical flow: search_catalog (words) -> describe (a cube or member: coverage, values, operators) -> run_query. get_catalog gives everything at once in compact form. Never guess dates: describe shows each cube's first and last date; an empty answer comes with notes.";

export function createMcpServer(deps: McpToolDeps, contextOf: () => RequestContext): McpServer {
  const server = new McpServer({ name: 'strata', version: '0.1.0' }, { instructions: MCP_INSTRUCTIONS });
  registerTools(server, deps, contextOf);
  return server;
}
