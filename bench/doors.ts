/**
 * One client per door, each timing a full round trip (request -> last byte parsed) and returning
 * the rows so run.ts can compare them with the floor.
 */
import pg from 'pg';
import type { SemanticQuery } from '../src/semantic/query.js';

export interface DoorResult {
  readonly ms: number;
  readonly rows: readonly Record<string, unknown>[] | readonly unknown[][];
}

export interface Doors {
  graphql(document: string): Promise<DoorResult & { fields: Record<string, Record<string, unknown>[]> }>;
  rest(query: SemanticQuery): Promise<DoorResult>;
  sql(text: string): Promise<DoorResult>;
  close(): Promise<void>;
}

export async function openDoors(url: string, sqlProxyPort: number, token: string): Promise<Doors> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const pgClient = new pg.Client({ host: '127.0.0.1', port: sqlProxyPort, user: 'bench', password: token, database: 'strata' });
  await pgClient.connect();
  return {
    async graphql(document) {
      const t0 = performance.now();
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: document }) });
      const body = (await res.json()) as { data?: Record<string, Record<string, unknown>[]>; errors?: { message: string }[] };
      const elapsed = performance.now() - t0;
      if (!res.ok || body.errors?.length) throw new Error(`graphql ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
      const fields = body.data ?? {};
      return { ms: elapsed, rows: Object.values(fields).flat(), fields };
    },
    async rest(query) {
      const t0 = performance.now();
      const res = await fetch(`${url}/cubejs-api/v1/load`, { method: 'POST', headers, body: JSON.stringify({ query }) });
      const body = (await res.json()) as { data?: Record<string, unknown>[]; error?: string };
      const elapsed = performance.now() - t0;
      if (!res.ok || !body.data) throw new Error(`rest ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
      return { ms: elapsed, rows: body.data };
    },
    async sql(text) {
      const t0 = performance.now();
      const r = await pgClient.query({ text, rowMode: 'array' });
      return { ms: performance.now() - t0, rows: r.rows as unknown[][] };
    },
    async close() {
      await pgClient.end().catch(() => undefined);
    },
  };
}
