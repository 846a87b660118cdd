/**
 * Cheap fan-out of one shared result to thousands of WebSocket subscribers.
 *
 * - Serialize once, copy never: a payload produced by shared subscription execution
 *   (shared-subscribe.ts) is turned into JSON bytes once; graphql-ws's message serializer (its
 *   `jsonMessageReplacer` hook) emits a marker in its place, and the socket's send writes the message
 *   as one text message in fragments: the message's own head (`{"id":…,"payload":`) and then the shared
 *   bytes (with the closing brace), written as they are. No per-subscriber copy of the payload: that
 *   copy (an allocation the size of the result per subscriber) was most of the fan-out's cost.
 *   graphql-ws always serializes a message and hands it to send() in the same synchronous step, so one
 *   pending slot suffices; the fragments of one message are sent in one synchronous step, so no other
 *   data frame can come between them.
 * - Few writes, early bytes: a connection's frames leave in one write per event-loop turn (the TCP
 *   socket is corked until the turn ends) or as soon as FLUSH_BYTES are waiting, so a client starts
 *   reading while the server is still fanning out a large change.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const MARKER = JSON.stringify(`\u0000strata-shared-payload-${randomUUID()}`);
const MARKER_VALUE = JSON.parse(MARKER) as string;

/** Payload objects whose JSON may be computed once and reused (see markShared). */
const shareable = new WeakSet<object>();
/** UTF-8 bytes of a shared payload's JSON, and the same followed by the message's closing brace. */
const bytesOf = new WeakMap<object, SharedBytes>();
let pending: SharedBytes | undefined;
/** A corked connection writes once this much is waiting, even before the event-loop turn ends. */
const FLUSH_BYTES = 256 * 1024;
const CLOSE = Buffer.from('}');

interface SharedBytes {
  readonly json: Buffer;
  readonly closed: Buffer;
}

/** Declares a payload object immutable and sent as is to many subscribers. */
export function markShared<T extends object>(payload: T): T {
  shareable.add(payload);
  return payload;
}

/** For graphql-ws `jsonMessageReplacer`: a shared payload becomes a marker; send() puts its JSON back. */
export function sharedPayloadReplacer(key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null || !shareable.has(value)) return value;
  let bytes = bytesOf.get(value);
  if (bytes === undefined) {
    const json = Buffer.from(JSON.stringify(value));
    bytesOf.set(value, (bytes = { json, closed: Buffer.concat([json, CLOSE]) }));
  }
  pending = bytes;
  return MARKER_VALUE;
}

/** The message's fragments with the shared payload's bytes in place of the marker; undefined: nothing to splice. */
function fragments(data: unknown): (string | Buffer)[] | undefined {
  if (pending === undefined || typeof data !== 'string') return undefined;
  const bytes = pending;
  pending = undefined;
  const at = data.indexOf(MARKER);
  if (at < 0) return undefined;
  const head = data.slice(0, at);
  const tail = data.slice(at + MARKER.length);
  return tail === '}' ? [head, bytes.closed] : [head, bytes.json, tail];
}

/**
 * Wraps one connection's send: shared payloads as fragments, writes batched per event-loop turn.
 * `tcp` is the upgraded request's socket (the one the WebSocket writes to).
 */
export function batchSends(socket: WebSocket, tcp: Socket): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  let corked = false;
  /** Bytes the socket held right after its last write: a slow reader's backlog is not new bytes. */
  let backlog = 0;
  const uncork = () => {
    corked = false;
    tcp.uncork();
  };
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    if (!corked && !tcp.destroyed) {
      corked = true;
      backlog = tcp.writableLength;
      tcp.cork();
      setImmediate(uncork);
    }
    const parts = fragments(data);
    if (!parts) send(data, ...rest);
    else {
      // One text message (binary: false, or a Buffer would open a binary one) in parts.length frames.
      const [options, cb] = typeof rest[0] === 'function' ? [{}, rest[0]] : [rest[0] ?? {}, rest[1]];
      const last = parts.length - 1;
      for (let i = 0; i < last; i++) send(parts[i], { ...(options as object), binary: false, fin: false });
      send(parts[last], { ...(options as object), binary: false, fin: true }, cb);
    }
    if (corked && tcp.writableLength - backlog >= FLUSH_BYTES) {
      // Let the bytes go now (one write), and keep batching what the rest of this turn sends.
      tcp.uncork();
      backlog = tcp.writableLength;
      tcp.cork();
    }
  }) as WebSocket['send'];
}
