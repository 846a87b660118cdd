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
import { NdjsonSegments, segmentAtLines } from './ndjson.js';

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

class TooLarge extends Error {}

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

/** The body's byte chunks as they arrived, and the sha256 of its bytes (hashed on the way: no second pass). */
async function readBody(request: Request, max: number): Promise<{ chunks: Uint8Array[]; size: number; sha256: string }> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) throw new TooLarge();
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [];
  if (!request.body) return { chunks, size: 0, sha256: hash.digest('hex') };
  const reader = request.body.getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
    hash.update(value);
  }
  return { chunks, size, sha256: hash.digest('hex') };
}

/** Whether the first non-blank byte of the body is "[" (a JSON array of rows). */
function startsWithBracket(chunks: readonly Uint8Array[]): boolean {
  for (const c of chunks) {
    for (const b of c) {
      if (b === 32 || b === 9 || b === 10 || b === 13) continue;
      return b === 91;
    }
  }
  return false;
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

      let body: Awaited<ReturnType<typeof readBody>>;
      try {
        body = await readBody(request, max);
      } catch (e) {
        if (e instanceof TooLarge) throw new UserError('PAYLOAD_TOO_LARGE', `the body exceeds ${max} bytes; split the batch`, { maxBytes: max });
        throw new UserError('BAD_USER_INPUT', 'the body could not be read to its end');
      }
      const { sha256 } = body;

      let rows: readonly unknown[] | NdjsonSegments;
      const contentType = request.headers.get('content-type') ?? '';
      // Before any parse: invalid UTF-8, or a line (or array) nested beyond the edge's bound, refuses the batch.
      if (contentType.includes('application/json') && startsWithBracket(body.chunks)) {
        const bytes = Buffer.concat(body.chunks, body.size);
        // isUtf8 (native, no copy) + toString is several times faster than a fatal TextDecoder.
        if (!isUtf8(bytes)) throw notUtf8();
        const text = bytes.toString('utf8');
        assertJsonTextDepth(text, 'the body');
        try {
          rows = JSON.parse(text) as unknown[];
        } catch (e) {
          throw new UserError('BAD_USER_INPUT', `invalid JSON array: ${(e as Error).message}`);
        }
      } else {
        // NDJSON stays in the chunks it came in, cut at line ends (ndjson.ts): no 30 MB copy and string.
        rows = segmentAtLines(body.chunks);
        for (const segment of rows.segments) {
          if (!isUtf8(segment)) throw notUtf8();
          assertNdjsonDepth(segment, 'a line of the body');
        }
      }
      // NDJSON: the service's body hash is the hash of these bytes, already computed (an array is hashed re-serialized, as before).
      const hashed = rows instanceof NdjsonSegments ? { bodySha256: sha256 } : {};
      // In the request's scope: the audit of the batch records its request id, address and user agent.
      return reply(200, await runInRequest(ctx, () => ingest.ingest(ctx.principal, table, rows, batchId || undefined, hashed)));
    } catch (e) {
      const pub = toPublicError(e, { logger, requestId, door: 'ingest' });
      const body = jsonErrorBody(pub, requestId, options.isDev ?? false);
      // An outage mid-batch: the same batch id retried later inserts each row once.
      if (e instanceof EngineError && pub.code !== 'INTERNAL') body.error = `${pub.message}; retry the batch with the same batch id`;
      return reply(pub.status, body, { ...pub.headers });
    }
  };
}
