/**
 * Cheap fan-out of one shared result to thousands of WebSocket subscribers.
 *
 * - Serialize once: a payload produced by shared subscription execution (shared-subscribe.ts) is
 *   turned into JSON bytes once; graphql-ws's message serializer (its `jsonMessageReplacer` hook)
 *   emits a marker in its place and the socket's send splices the bytes in (as a text frame). graphql-ws always serializes a
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
/** UTF-8 bytes of a shared payload's JSON: each message copies them once, no per-subscriber string. */
const bytesOf = new WeakMap<object, Buffer>();
let pending: Buffer | undefined;

/** Declares a payload object immutable and sent as is to many subscribers. */
export function markShared<T extends object>(payload: T): T {
  shareable.add(payload);
  return payload;
}

/** For graphql-ws `jsonMessageReplacer`: a shared payload becomes a marker; send() puts its JSON back. */
export function sharedPayloadReplacer(key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null || !shareable.has(value)) return value;
  let bytes = bytesOf.get(value);
  if (bytes === undefined) bytesOf.set(value, (bytes = Buffer.from(JSON.stringify(value))));
  pending = bytes;
  return MARKER_VALUE;
}

/** The message with the shared payload's bytes in place of the marker; undefined: nothing to splice. */
function splice(data: unknown): Buffer | undefined {
  if (pending === undefined || typeof data !== 'string') return undefined;
  const bytes = pending;
  pending = undefined;
  const at = data.indexOf(MARKER);
  if (at < 0) return undefined;
  return Buffer.concat([Buffer.from(data.slice(0, at)), bytes, Buffer.from(data.slice(at + MARKER.length))]);
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
    const spliced = splice(data);
    if (!spliced) return send(data, ...rest);
    // A Buffer goes out as a binary frame unless told otherwise; graphql-ws speaks text frames.
    const [options, cb] = typeof rest[0] === 'function' ? [{}, rest[0]] : [rest[0] ?? {}, rest[1]];
    send(spliced, { ...(options as object), binary: false }, cb);
  }) as WebSocket['send'];
}
