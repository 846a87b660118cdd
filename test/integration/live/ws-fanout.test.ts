/**
 * The WebSocket fan-out (src/graphql/ws-fanout.ts) over real sockets: a real `ws` server with the
 * fan-out wrapper, a real `ws` client reading what arrives. Shared payloads go out as fragmented
 * text messages; what the client reassembles must equal a plain serialization, byte for byte.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { batchSends, markShared, sharedPayloadReplacer } from '../../../src/graphql/ws-fanout.js';

interface Pair {
  server: WebSocket;
  tcp: Socket;
  received: { text: string; binary: boolean }[];
  /** Resolves once the client holds `n` messages. */
  until(n: number): Promise<void>;
}

let servers: Server[] = [];
let clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients) c.terminate();
  clients = [];
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

async function connect(): Promise<Pair> {
  const http = createServer();
  servers.push(http);
  const wss = new WebSocketServer({ server: http });
  const accepted = new Promise<{ server: WebSocket; tcp: Socket }>((resolve) =>
    wss.on('connection', (server, request) => {
      batchSends(server, request.socket);
      resolve({ server, tcp: request.socket });
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  clients.push(client);
  const received: { text: string; binary: boolean }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  client.on('message', (data, binary) => {
    received.push({ text: data.toString(), binary });
    for (const w of waiters.filter((x) => received.length >= x.n)) w.resolve();
  });
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  const { server, tcp } = await accepted;
  const until = (n: number) => (received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })));
  return { server, tcp, received, until };
}

describe('WebSocket fan-out over a real socket', () => {
  it('a shared payload arrives in every message as one text message equal to a plain serialization', async () => {
    const { server, received, until } = await connect();
    const payload = markShared({ data: { live: { data: [{ name: 'quote " and \u2028 é ✓', n: 2 }] } } });
    const ids = ['s1', 's2', 's3'];
    for (const id of ids) server.send(stringifyMessage({ id, type: MessageType.Next, payload }, sharedPayloadReplacer));
    await until(3);
    expect(received.map((m) => m.binary)).toEqual([false, false, false]);
    expect(received.map((m) => m.text)).toEqual(ids.map((id) => stringifyMessage({ id, type: MessageType.Next, payload })));
    expect(JSON.parse(received[1].text)).toEqual({ id: 's2', type: 'next', payload });
  });

  it('plain messages pass untouched and keep their order between shared ones', async () => {
    const { server, received, until } = await connect();
    const shared = markShared({ data: { x: [1, 2, 3] } });
    const plain = { data: { x: 'own' } };
    // As graphql-ws does: each message is serialized and sent in one synchronous step.
    const messages = [
      { id: 'a', type: MessageType.Next, payload: shared },
      { id: 'b', type: MessageType.Next, payload: plain },
      { id: 'a', type: MessageType.Complete },
      { id: 'c', type: MessageType.Next, payload: shared },
    ] as const;
    const sent = messages.map((m) => {
      const text = stringifyMessage(m, sharedPayloadReplacer);
      server.send(text);
      return text;
    });
    await until(4);
    expect(received.map((m) => m.text)).toEqual([
      stringifyMessage({ id: 'a', type: MessageType.Next, payload: shared }),
      sent[1],
      sent[2],
      stringifyMessage({ id: 'c', type: MessageType.Next, payload: shared }),
    ]);
  });

  it('a message whose shared payload is not its last field arrives whole too', async () => {
    const { server, received, until } = await connect();
    const payload = markShared({ rows: ['é'] });
    server.send(JSON.stringify({ payload, id: 'x', type: 'next' }, sharedPayloadReplacer));
    await until(1);
    expect(received[0]).toEqual({ text: JSON.stringify({ payload, id: 'x', type: 'next' }), binary: false });
  });

  it('a large fan-out in one turn goes out while it is built, and every message arrives intact and in order', async () => {
    const { server, tcp, received, until } = await connect();
    const payload = markShared({ data: { rows: Array.from({ length: 80 }, (_, i) => ({ day: `2026-08-${i}`, cost: i * 1.5 })) } });
    const count = 2_000;
    // Writes handed to the kernel during the turn: uncorks that leave the socket uncorked
    // (ws corks around each frame itself, inside the fan-out's own cork).
    let writes = 0;
    const uncork = tcp.uncork.bind(tcp);
    tcp.uncork = () => {
      if (tcp.writableCorked === 1) writes++;
      uncork();
    };
    for (let i = 0; i < count; i++) server.send(stringifyMessage({ id: `s${i}`, type: MessageType.Next, payload }, sharedPayloadReplacer));
    const during = writes;
    const total = count * stringifyMessage({ id: 's1000', type: MessageType.Next, payload }).length;
    expect(total).toBeGreaterThan(4 * 1024 * 1024);
    // Corked for the whole turn, nothing would leave before the turn ends; one write per 256 KiB instead.
    expect(during).toBeGreaterThanOrEqual(Math.floor(total / (256 * 1024)) - 1);
    expect(during).toBeLessThanOrEqual(Math.ceil(total / (256 * 1024)));
    await until(count);
    expect(received.every((m, i) => !m.binary && m.text === stringifyMessage({ id: `s${i}`, type: MessageType.Next, payload }))).toBe(true);
  });

  it('sends to a closed socket fail quietly (the callback gets the error) and later sends still work elsewhere', async () => {
    const { server, received, until } = await connect();
    const payload = markShared({ data: { n: 1 } });
    server.send(stringifyMessage({ id: 'before', type: MessageType.Next, payload }, sharedPayloadReplacer));
    await until(1);
    clients[0].close();
    await new Promise((resolve) => server.once('close', resolve));
    const error = await new Promise<Error | undefined>((resolve) =>
      server.send(stringifyMessage({ id: 'after', type: MessageType.Next, payload }, sharedPayloadReplacer), (err) => resolve(err)),
    );
    expect(error?.message).toMatch(/not open/);
    expect(received.map((m) => JSON.parse(m.text).id)).toEqual(['before']);
    // The shared slot was consumed: a plain message to another connection is not spliced.
    const other = await connect();
    other.server.send(stringifyMessage({ id: 'plain', type: MessageType.Next, payload: { data: { n: 2 } } }, sharedPayloadReplacer));
    await other.until(1);
    expect(JSON.parse(other.received[0].text)).toEqual({ id: 'plain', type: 'next', payload: { data: { n: 2 } } });
  });
});
