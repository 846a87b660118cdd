/**
 * Cheap fan-out of one shared result to thousands of WebSocket subscribers.
 *
 * - Serialize once: a payload produced by shared subscription execution (shared-subscribe.ts) is
 *   turned into JSON once; graphql-ws's message serializer (its `jsonMessageReplacer` hook) emits a
 *   marker in its place and the socket's send splices the JSON in. graphql-ws always serializes a
 *   message and hands it to send() in the same synchronous step, so one pending slot suffices.
 * - Write once per tick: a connection's frames sent in the same event-loop turn leave in one
 *   write (the TCP socket is corked until the turn ends) instead of one syscall per subscriber.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const MARKER = JSON.stringify(`\u0000strata-shared-payload-${randomUUID()}`);
const MARKER_VALUE = JSON.parse(MARKER) as string;

/** Payload objects whose JSON may be computed once and reused (see markShared). */
const shareable = new WeakSet<object>();
const jsonOf = new WeakMap<object, string>();
let pending: string | undefined;

/** Declares a payload object immutable and sent as is to many subscribers. */
export function markShared<T extends object>(payload: T): T {
  shareable.add(payload);
  return payload;
}

/** For graphql-ws `jsonMessageReplacer`: a shared payload becomes a marker; send() puts its JSON back. */
export function sharedPayloadReplacer(key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null || !shareable.has(value)) return value;
  let json = jsonOf.get(value);
  if (json === undefined) jsonOf.set(value, (json = JSON.stringify(value)));
  pending = json;
  return MARKER_VALUE;
}

function splice(data: unknown): unknown {
  if (pending === undefined || typeof data !== 'string') return data;
  const json = pending;
  pending = undefined;
  const at = data.indexOf(MARKER);
  return at < 0 ? data : data.slice(0, at) + json + data.slice(at + MARKER.length);
}

/**
 * Wraps one connection's send: splices shared payloads and batches writes per event-loop turn.
 * `tcp` is the upgraded request's socket (the one the WebSocket writes to).
 */
export function batchSends(socket: WebSocket, tcp: Socket): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    tcp.uncork();
  };
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    if (!corked && !tcp.destroyed) {
      corked = true;
      tcp.cork();
      setImmediate(uncork);
    }
    send(splice(data), ...rest);
  }) as WebSocket['send'];
}
