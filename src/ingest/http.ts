/**
 * `POST /v1/ingest/:table` as a WHATWG fetch handler, plus `GET /v1/ingest/batches?limit=`,
 * `GET /v1/ingest/quarantine?batch_id=&limit=&include_resolved=` and
 * `DELETE /v1/ingest/rows?dimension=&value=` (all ingest:write, the caller's tenant only). Authenticates through the shared edge,
 * checks the scope before reading anything, reads the body under a size limit, and answers
 * errors as every HTTP door does (`{error, code, requestId, details?}`, edge/errors.ts statuses).
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Authenticator } from '../auth/authenticator.js';
import { type Principal, SCOPES } from '../auth/principal.js';
import { toPublicError } from '../edge/errors.js';
import { assertJsonTextDepth, assertNdjsonDepth } from '../edge/input-bounds.js';
import { runInRequest } from '../edge/request-scope.js';
import { authenticateHttp, httpRequestId, type HttpPeer, jsonErrorBody, jsonResponse } from '../edge/http.js';
import { EngineError, ForbiddenError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { IngestService } from './ingest-service.js';
import { LineCutter, NdjsonStream } from './ndjson.js';

export interface IngestHandlerOptions {
  readonly authenticator: Authenticator;
  /** Proxies trusted to set x-forwarded-for (config.trustProxy). */
  readonly trustProxy: number;
  readonly logger: Logger;
  /** Largest accepted body; larger ones get 413. Default 64 MiB. */
  readonly maxBodyBytes?: number;
  /** Adds the masked cause to 500 bodies (development only). */
  readonly isDev?: boolean;
}

export type IngestHandler = (request: Request, peer?: HttpPeer) => Promise<Response>;

export const DEFAULT_MAX_INGEST_BYTES = 64 * 1024 * 1024;
export const INGEST_PATH_PREFIX = '/v1/ingest/';
const PATH = /\/v1\/ingest\/([^/?#]+)\/?$/;

const notUtf8 = () => new UserError('BAD_USER_INPUT', 'the body is not valid UTF-8');

/** Not tables: GET batches / quarantine (history), DELETE rows (by a dimension value). */
const READ_ROUTES = new Set(['batches', 'quarantine', 'rows']);
export const MAX_HISTORY_PAGE = 1_000;

function pageOf(params: URLSearchParams): number {
  const raw = params.get('limit');
  const n = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_PAGE)
    throw new UserError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_HISTORY_PAGE}`, { limit: raw });
  return n;
}

/** The service checks ingest:write and scopes everything to the caller's tenant. */
async function historyRoute(ingest: IngestService, principal: Principal, resource: string, params: URLSearchParams): Promise<unknown> {
  if (resource === 'batches') return { batches: await ingest.batches(principal, pageOf(params)) };
  if (resource === 'quarantine') {
    const batchId = params.get('batch_id');
    const rows = await ingest.quarantine(principal, {
      ...(batchId ? { batchId } : {}),
      limit: pageOf(params),
      includeResolved: params.get('include_resolved') === 'true',
    });
    return { quarantine: rows };
  }
  return ingest.deleteRows(principal, params.get('dimension') ?? '', params.get('value') ?? '');
}

/** What the door reads: a JSON array (read whole), or an NDJSON body walked while it arrives. */
type Body = { readonly kind: 'array'; readonly rows: readonly unknown[] } | { readonly kind: 'ndjson'; readonly stream: NdjsonStream; stop(): void };

const isBlank = (b: number) => b === 32 || b === 9 || b === 10 || b === 13;

/**
 * Reads the body under the size limit. An NDJSON body is handed on as it arrives (NdjsonStream):
 * each segment is checked (UTF-8, nesting) before it is pushed, and the hash of the bytes (taken
 * on the way: no second pass) settles only once every byte is in and checked. The service inserts
 * nothing before that hash (its admission needs it), so a bad byte anywhere refuses the whole batch.
 */
async function readBody(request: Request, max: number, json: boolean): Promise<Body> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
  const hash = createHash('sha256');
  const reader = request.body?.getReader();
  let size = 0;
  const next = async (): Promise<Uint8Array | undefined> => {
    if (!reader) return undefined;
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw new UserError('BAD_USER_INPUT', 'the body could not be read to its end');
    }
    if (chunk.done) return undefined;
    size += chunk.value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(max);
    }
    hash.update(chunk.value);
    return chunk.value;
  };
  // The first non-blank byte tells a JSON array ("[") from NDJSON.
  const head: Uint8Array[] = [];
  let first: number | undefined;
  while (first === undefined) {
    const chunk = await next();
    if (!chunk) break;
    head.push(chunk);
    first = chunk.find((b) => !isBlank(b));
  }
  if (json && first === 91) {
    for (let chunk = await next(); chunk; chunk = await next()) head.push(chunk);
    const bytes = Buffer.concat(head, size);
    // isUtf8 (native, no copy) + toString is several times faster than a fatal TextDecoder.
    if (!isUtf8(bytes)) throw notUtf8();
    const text = bytes.toString('utf8');
    assertJsonTextDepth(text, 'the body');
    try {
      return { kind: 'array', rows: JSON.parse(text) as unknown[] };
    } catch (e) {
      throw new UserError('BAD_USER_INPUT', `invalid JSON array: ${(e as Error).message}`);
    }
  }
  // NDJSON stays in the chunks it came in, cut at line ends (ndjson.ts): no 30 MB copy and string.
  const stream = new NdjsonStream();
  const cutter = new LineCutter();
  let stopped = false;
  const pass = (segment: Buffer) => {
    if (!isUtf8(segment)) throw notUtf8();
    assertNdjsonDepth(segment, 'a line of the body');
    stream.push(segment);
  };
  const pump = async () => {
    try {
      for (const chunk of head) cutter.push(chunk).forEach(pass);
      for (let chunk = await next(); chunk && !stopped; chunk = await next()) cutter.push(chunk).forEach(pass);
      if (stopped) return;
      pass(cutter.end());
      stream.end(hash.digest('hex'));
    } catch (e) {
      stream.fail(e);
      await reader?.cancel().catch(() => undefined);
    }
  };
  void pump();
  return {
    kind: 'ndjson',
    stream,
    // The batch has ended (answered or refused): the rest of the body, if any, is not read.
    stop: () => {
      if (stopped) return;
      stopped = true;
      stream.fail(new UserError('BAD_USER_INPUT', 'the batch ended before its body was read'));
      void reader?.cancel().catch(() => undefined);
    },
  };
}

function tooLarge(max: number): UserError {
  return new UserError('PAYLOAD_TOO_LARGE', `the body exceeds ${max} bytes; split the batch`, { maxBytes: max });
}

export function createIngestHandler(ingest: IngestService, options: IngestHandlerOptions): IngestHandler {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_INGEST_BYTES;
  const { logger } = options;
  return async (request, peer = {}) => {
    const requestId = httpRequestId(request);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      jsonResponse(status, body, { 'x-request-id': requestId, ...headers });
    try {
      const url = new URL(request.url);
      const m = PATH.exec(url.pathname);
      const resource = m?.[1] ?? '';
      if (m && READ_ROUTES.has(resource)) {
        if (request.method !== (resource === 'rows' ? 'DELETE' : 'GET')) {
          const allow = resource === 'rows' ? 'DELETE' : 'GET';
          return reply(405, { error: `use ${allow} on /v1/ingest/${resource}`, code: 'BAD_USER_INPUT', requestId }, { allow });
        }
        const ctx = await authenticateHttp(request, 'ingest', peer, { ...options, requestId });
        return reply(200, await runInRequest(ctx, () => historyRoute(ingest, ctx.principal, resource, url.searchParams)));
      }
      if (request.method !== 'POST') {
        return reply(405, { error: 'use POST with an NDJSON body', code: 'BAD_USER_INPUT', requestId }, { allow: 'POST' });
      }
      if (!m) throw new UserError('NOT_FOUND', 'expected POST /v1/ingest/{table}');
      const ctx = await authenticateHttp(request, 'ingest', peer, { ...options, requestId });
      // Checked before reading the body: a caller without the scope learns nothing else.
      if (!ctx.principal.scopes.has(SCOPES.INGEST_WRITE)) {
        throw new ForbiddenError(`ingestion requires scope "${SCOPES.INGEST_WRITE}"`, { scopes: [SCOPES.INGEST_WRITE] });
      }
      let table: string;
      try {
        table = decodeURIComponent(m[1]);
      } catch {
        throw new UserError('BAD_USER_INPUT', 'malformed table name in the path');
      }
      const batchId = request.headers.get('idempotency-key') ?? url.searchParams.get('batch_id') ?? undefined;

      const contentType = request.headers.get('content-type') ?? '';
      const body = await readBody(request, max, contentType.includes('application/json'));
      const rows = body.kind === 'array' ? body.rows : body.stream;
      try {
        // In the request's scope: the audit of the batch records its request id, address and user agent.
        return reply(200, await runInRequest(ctx, () => ingest.ingest(ctx.principal, table, rows, batchId || undefined)));
      } finally {
        if (body.kind === 'ndjson') body.stop();
      }
    } catch (e) {
      const pub = toPublicError(e, { logger, requestId, door: 'ingest' });
      const body = jsonErrorBody(pub, requestId, options.isDev ?? false);
      // An outage mid-batch: the same batch id retried later inserts each row once.
      if (e instanceof EngineError && pub.code !== 'INTERNAL') body.error = `${pub.message}; retry the batch with the same batch id`;
      return reply(pub.status, body, { ...pub.headers });
    }
  };
}
