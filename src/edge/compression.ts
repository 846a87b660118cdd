/**
 * Response compression for every HTTP door (GraphQL, REST, catalog, ingestion answers, /metrics):
 * wraps a node `(req, res)` handler and compresses the body with brotli or gzip when the client's
 * Accept-Encoding allows it, the content type gains from it and the body is at least `threshold` bytes.
 *
 * It works at the node ServerResponse level, below @whatwg-node and yoga, so every door gets it
 * from one hook in server.ts and none of them knows about it. The body is held back until it
 * reaches `threshold` bytes or ends: a small answer goes out as is (with its Content-Length), a
 * complete answer is compressed in one call on the libuv thread pool (with the compressed
 * Content-Length), a longer stream goes through a zlib stream. Never compressed: HEAD, 204/304,
 * responses that already carry a Content-Encoding or `Cache-Control: no-transform`, and
 * incremental formats (text/event-stream subscriptions, multipart/mixed @defer) whose parts must
 * reach the client as they are written. WebSocket upgrades never pass through a request handler.
 */
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, createBrotliCompress, createGzip, type BrotliOptions, type ZlibOptions, brotliCompress, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

export interface CompressionOptions {
  /** Smallest body (bytes) worth compressing. Default 1 KiB. */
  readonly threshold?: number;
  /** Brotli quality 0-11. Default 4: about gzip's speed with a better ratio, right for dynamic JSON. */
  readonly brotliQuality?: number;
  /** gzip level 1-9. Default 6. */
  readonly gzipLevel?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
// node's writeHead/write/end have loose overloads; the patched versions take them as they come.
// biome-ignore lint/suspicious/noExplicitAny: forwards node's own overloaded arguments unchanged.
type Loose = (...args: any[]) => any;
interface Patchable {
  writeHead: Loose;
  write: Loose;
  end: Loose;
}

const COMPRESSIBLE =
  /^(application\/(json|graphql-response\+json|ld\+json|x-ndjson|ndjson|javascript|xml|problem\+json|openmetrics-text)|text\/(?!event-stream)|image\/svg\+xml)/i;

/**
 * The encoding to use for an Accept-Encoding header: the accepted one (q > 0) with the highest q,
 * brotli on a tie; `*` stands for both. undefined: send identity.
 */
export function negotiateEncoding(acceptEncoding: string | string[] | undefined): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  const q: Record<string, number> = {};
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') weight = Number(v);
    }
    q[name] = Number.isFinite(weight) ? weight : 0;
  }
  const br = q.br ?? q['*'] ?? 0;
  const gz = q.gzip ?? q['x-gzip'] ?? q['*'] ?? 0;
  if (br <= 0 && gz <= 0) return undefined;
  return br >= gz ? 'br' : 'gzip';
}

/** Whether a response with these headers may be compressed at all (independently of the client). */
function compressible(res: ServerResponse, method: string | undefined): boolean {
  if (method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || res.statusCode < 200) return false;
  if (res.getHeader('content-encoding')) return false;
  const type = String(res.getHeader('content-type') ?? '');
  if (!COMPRESSIBLE.test(type)) return false;
  return !/\bno-transform\b/i.test(String(res.getHeader('cache-control') ?? ''));
}

function addVary(res: ServerResponse): void {
  const vary = res.getHeader('vary');
  const current = Array.isArray(vary) ? vary.join(', ') : vary === undefined ? '' : String(vary);
  if (/(^|,)\s*(\*|accept-encoding)\s*(,|$)/i.test(current)) return;
  res.setHeader('vary', current ? `${current}, Accept-Encoding` : 'Accept-Encoding');
}

/** Applies writeHead's header argument with setHeader, so headers can still change before they are sent. */
function applyHeaders(res: ServerResponse, headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): void {
  if (!headers) return;
  if (Array.isArray(headers)) {
    const pairs: [string, OutgoingHttpHeader][] = Array.isArray(headers[0])
      ? (headers as unknown as [string, OutgoingHttpHeader][])
      : Array.from({ length: headers.length / 2 }, (_, i) => [String(headers[2 * i]), headers[2 * i + 1]!]);
    const grouped = new Map<string, string[]>();
    for (const [k, v] of pairs) grouped.set(k, [...(grouped.get(k) ?? []), ...(Array.isArray(v) ? v.map(String) : [String(v)])]);
    for (const [k, v] of grouped) res.setHeader(k, v.length === 1 ? v[0]! : v);
    return;
  }
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
}

function toBuffer(chunk: unknown, encoding?: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}

/** Wraps a request handler so that its responses are compressed when the client and the body allow. */
export function withCompression(handler: Handler, options: CompressionOptions = {}): Handler {
  const threshold = options.threshold ?? 1024;
  const brotli: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 4 } };
  const gzipOptions: ZlibOptions = { level: options.gzipLevel ?? 6 };

  return (req, res) => {
    const encoding = negotiateEncoding(req.headers['accept-encoding']);
    const patched = res as unknown as Patchable;
    const original = { writeHead: patched.writeHead, write: patched.write, end: patched.end, on: res.on };
    // 'undecided' until the headers are known; 'pending' holds the body back until threshold/end.
    let state: 'undecided' | 'identity' | 'pending' | 'stream' | 'done' = 'undecided';
    let buffered: Buffer[] = [];
    let size = 0;
    let stream: ReturnType<typeof createGzip> | undefined;
    let streamScheduled = false;

    const restore = () => {
      patched.writeHead = original.writeHead;
      patched.write = original.write;
      patched.end = original.end;
    };

    /** Decides from the final status and headers whether this response can be compressed. */
    const decide = () => {
      if (state !== 'undecided') return;
      if (!compressible(res, req.method)) {
        state = 'identity';
        return;
      }
      addVary(res);
      const declared = Number(res.getHeader('content-length'));
      state = encoding && !(declared < threshold) ? 'pending' : 'identity';
    };

    const sendHead = () => original.writeHead.call(res, res.statusCode, res.statusMessage || undefined);

    const sendIdentity = (cb?: () => void) => {
      state = 'done';
      restore();
      const body = Buffer.concat(buffered, size);
      buffered = [];
      if (!res.headersSent) {
        if (!res.hasHeader('content-length') && !res.hasHeader('transfer-encoding')) res.setHeader('content-length', body.length);
        sendHead();
      }
      patched.end(body, cb);
    };

    const startStream = () => {
      state = 'stream';
      res.removeHeader('content-length');
      res.setHeader('content-encoding', encoding!);
      sendHead();
      stream = encoding === 'br' ? createBrotliCompress(brotli) : createGzip(gzipOptions);
      stream.on('data', (chunk: Buffer) => {
        if (!original.write.call(res, chunk)) stream!.pause();
      });
      original.on.call(res, 'drain', () => stream!.resume());
      stream.on('drain', () => res.emit('drain'));
      stream.on('error', () => res.destroy());
      res.once('close', () => stream!.destroy());
      for (const b of buffered) stream.write(b);
      buffered = [];
    };

    patched.writeHead = function (this: ServerResponse, status: number, reason?: unknown, headers?: unknown) {
      if (state !== 'undecided') return original.writeHead.apply(this, [status, reason, headers]);
      res.statusCode = status;
      if (typeof reason === 'string') res.statusMessage = reason;
      else headers = reason;
      applyHeaders(res, headers as OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined);
      decide();
      if ((state as string) === 'identity') {
        restore();
        sendHead();
      }
      return res;
    };

    patched.write = (chunk: unknown, enc?: unknown, cb?: unknown) => {
      decide();
      if (state === 'identity') {
        restore();
        return patched.write(chunk, enc, cb);
      }
      const callback = typeof enc === 'function' ? enc : cb;
      const buf = toBuffer(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : undefined);
      if (state === 'stream') return stream!.write(buf, callback as () => void);
      if (state !== 'pending') return false;
      buffered.push(buf);
      size += buf.length;
      // Past the threshold: stream, unless end() follows in the same tick (one write + end, as
      // @whatwg-node sends a body) and the whole body can be compressed at once with a length.
      if (size >= threshold && !streamScheduled) {
        streamScheduled = true;
        queueMicrotask(() => {
          if (state === 'pending') startStream();
        });
      }
      if (typeof callback === 'function') process.nextTick(callback as () => void);
      return true;
    };

    patched.end = (chunk?: unknown, enc?: unknown, cb?: unknown) => {
      decide();
      const callback = (typeof chunk === 'function' ? chunk : typeof enc === 'function' ? enc : cb) as (() => void) | undefined;
      const data = typeof chunk === 'function' || chunk == null ? undefined : toBuffer(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : undefined);
      if (state === 'identity') {
        restore();
        return data ? patched.end(data, callback) : patched.end(callback);
      }
      if (state === 'stream') {
        state = 'done';
        stream!.once('end', () => original.end.call(res, callback));
        if (data) stream!.end(data);
        else stream!.end();
        return res;
      }
      if (state !== 'pending') return res;
      if (data) {
        buffered.push(data);
        size += data.length;
      }
      if (size < threshold) {
        sendIdentity(callback);
        return res;
      }
      // The whole body is here: one compression call off the main thread, exact Content-Length.
      state = 'done';
      const body = Buffer.concat(buffered, size);
      buffered = [];
      const done = (err: Error | null, out: Buffer) => {
        restore();
        if (res.destroyed) return;
        if (err) {
          buffered = [body];
          state = 'pending';
          return sendIdentity(callback);
        }
        res.setHeader('content-encoding', encoding!);
        res.setHeader('content-length', out.length);
        sendHead();
        patched.end(out, callback);
      };
      if (encoding === 'br') brotliCompress(body, { params: { ...brotli.params, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }, done);
      else gzip(body, gzipOptions, done);
      return res;
    };

    handler(req, res);
  };
}
