/**
 * A lightly loaded observer for the live scenario, in its own process: one graphql-ws connection
 * with one subscription per affected widget. It reports (over IPC) the wall-clock time of every
 * result it receives, so push latency can be read without the bulk clients' own message parsing
 * (10,000 subscriptions in one process) in the way. Started by live.ts.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

interface Start {
  readonly url: string;
  readonly token: string;
  readonly query: string;
  readonly variables: readonly Record<string, unknown>[];
}

const now = () => performance.timeOrigin + performance.now();

process.once('message', (start: Start) => {
  const client = createClient({
    url: start.url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${start.token}` },
    retryAttempts: 0,
    lazy: false,
  });
  const first = new Set<number>();
  for (const [k, variables] of start.variables.entries()) {
    client.subscribe(
      { query: start.query, variables },
      {
        next: () => {
          if (!first.has(k)) {
            first.add(k); // the current result, sent at once on subscribe
            if (first.size === start.variables.length) process.send?.({ ready: true });
            return;
          }
          process.send?.({ received: k, at: now() });
        },
        error: (e) => process.send?.({ error: e instanceof Error ? e.message : JSON.stringify(e).slice(0, 300) }),
        complete: () => undefined,
      },
    );
  }
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) void Promise.resolve(client.dispose()).then(() => process.exit(0));
  });
});
