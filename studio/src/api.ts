/**
 * The GraphQL API as Studio uses it: POST /graphql for queries and mutations, graphql-ws on the same
 * path for live dashboards. Errors keep the server's stable code so screens can say what went wrong.
 */
import { type Client, createClient } from 'graphql-ws';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GraphQLError {
  readonly message: string;
  readonly extensions?: { readonly code?: string };
}

export async function gql<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(`The server cannot be reached (${(e as Error).message})`, 'NETWORK');
  }
  let body: { data?: T; errors?: GraphQLError[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered ${res.status} without JSON`, 'HTTP_ERROR');
  }
  const first = body.errors?.[0];
  if (first) throw new ApiError(first.message, first.extensions?.code ?? 'ERROR');
  if (!body.data) throw new ApiError(`The server answered ${res.status} without data`, 'HTTP_ERROR');
  return body.data;
}

let wsClient: { token: string; client: Client } | undefined;

function liveClient(token: string): Client {
  if (wsClient?.token === token) return wsClient.client;
  void wsClient?.client.dispose();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const client = createClient({ url, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 5, lazy: true });
  wsClient = { token, client };
  return client;
}

/** Subscribes; returns the function that stops it. Each message's data, or an ApiError, is passed on. */
export function subscribe<T>(
  token: string,
  query: string,
  variables: Record<string, unknown>,
  handlers: { next: (data: T) => void; error: (e: ApiError) => void },
): () => void {
  return liveClient(token).subscribe<T>(
    { query, variables },
    {
      next: (msg) => {
        const first = (msg.errors as GraphQLError[] | undefined)?.[0];
        if (first) handlers.error(new ApiError(first.message, first.extensions?.code ?? 'ERROR'));
        else if (msg.data) handlers.next(msg.data as T);
      },
      error: (e) => {
        const list = Array.isArray(e) ? (e as GraphQLError[]) : undefined;
        const code = (e as { code?: number }).code;
        const message = list?.[0]?.message ?? (e instanceof Error ? e.message : `live connection closed${code ? ` (${code})` : ''}`);
        handlers.error(new ApiError(message, list?.[0]?.extensions?.code ?? 'LIVE_ERROR'));
      },
      complete: () => undefined,
    },
  );
}

export function closeLive(): void {
  void wsClient?.client.dispose();
  wsClient = undefined;
}
