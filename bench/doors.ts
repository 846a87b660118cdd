/**
 * One client per door, each timing a full round trip (request -> last byte parsed) and returning
 * the rows so run.ts can compare them with the floor. HTTP doors use node:http with a keep-alive
 * agent (bench/http.ts). GraphQL answers carry Server-Timing (engine and total server ms).
 */
import http from 'node:http';
import pg from 'pg';
import { post } from './http.js';
import type { SemanticQuery } from '../src/semantic/query.js';

export interface DoorResult {
  readonly ms: number;
  readonly rows: readonly Record<string, unknown>[] | readonly unknown[][];
  /** From the Server-Timing header, when the door sends one: time in ClickHouse and in the server. */
  readonly server?: { readonly engineMs: number; readonly totalMs: number };
}

function parseServerTiming(h: string | undefined): DoorResult['server'] {
  const engine = /engine;dur=([\d.]+)/.exec(h ?? '');
  const total = /total;dur=([\d.]+)/.exec(h ?? '');
  return engine && total ? { engineMs: Number(engine[1]), totalMs: Number(total[1]) } : undefined;
}

export interface Doors {
  graphql(document: string): Promise<DoorResult & { fields: Record<string, Record<string, unknown>[]> }>;
  rest(query: SemanticQuery): Promise<DoorResult>;
  sql(text: string): Promise<DoorResult>;
  close(): Promise<void>;
}

export async function openDoors(url: string, sqlProxyPort: number, token: string): Promise<Doors> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const pgClient = new pg.Client({ host: '127.0.0.1', port: sqlProxyPort, user: 'bench', password: token, database: 'strata' });
  await pgClient.connect();
  return {
    async graphql(document) {
      const t0 = performance.now();
      const res = await post(`${url}/graphql`, headers, JSON.stringify({ query: document }), agent);
      const elapsed = performance.now() - t0;
      const body = res.json as { data?: Record<string, Record<string, unknown>[]>; errors?: { message: string }[] };
      if (res.status !== 200 || body.errors?.length) throw new Error(`graphql ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
      const fields = body.data ?? {};
      return { ms: elapsed, rows: Object.values(fields).flat(), fields, server: parseServerTiming(res.headers['server-timing'] as string | undefined) };
    },
    async rest(query) {
      const t0 = performance.now();
      const res = await post(`${url}/cubejs-api/v1/load`, headers, JSON.stringify({ query }), agent);
      const elapsed = performance.now() - t0;
      const body = res.json as { data?: Record<string, unknown>[]; error?: string };
      if (res.status !== 200 || !body.data) throw new Error(`rest ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
      return { ms: elapsed, rows: body.data };
    },
    async sql(text) {
      const t0 = performance.now();
      const r = await pgClient.query({ text, rowMode: 'array' });
      return { ms: performance.now() - t0, rows: r.rows as unknown[][] };
    },
    async close() {
      agent.destroy();
      await pgClient.end().catch(() => undefined);
    },
  };
}
