/**
 * GET /v1/exports/{id}/download?token=… — the download link of an export. The link is the
 * credential (emails carry it); it expires and names its tenant's export only. A caller who also
 * sends a credential must be of that tenant. The file streams from the store chunk by chunk.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { toPublicError } from '../edge/errors.js';
import { authenticateHttp, type HttpPeer, httpRequestId, jsonErrorBody, jsonResponse } from '../edge/http.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../query/types.js';
import { FORMATS, type ReportFormat } from './formats.js';
import type { ReportsService } from './service.js';

export const EXPORTS_PATH_PREFIX = '/v1/exports/';
const DOWNLOAD = /^\/v1\/exports\/([0-9a-f-]{36})\/download$/;

export interface DownloadDoorOptions {
  readonly authenticator: Authenticator;
  readonly trustProxy: number;
  readonly logger: Logger;
  readonly isDev: boolean;
}

export function createDownloadHandler(reports: ReportsService, options: DownloadDoorOptions) {
  return async (request: Request, peer: HttpPeer): Promise<Response> => {
    const requestId = httpRequestId(request);
    try {
      const url = new URL(request.url);
      const match = DOWNLOAD.exec(url.pathname);
      if (!match || (request.method !== 'GET' && request.method !== 'HEAD')) {
        return jsonResponse(404, { error: `no route for ${request.method} ${url.pathname}`, code: 'NOT_FOUND', requestId });
      }
      const caller: RequestContext | undefined = request.headers.get('authorization')
        ? await authenticateHttp(request, 'reports', peer, { ...options, requestId })
        : undefined;
      const { record, body } = await reports.exports.download(match[1], url.searchParams.get('token') ?? '', caller);
      const info = FORMATS[record.format as ReportFormat];
      const iterator = body[Symbol.asyncIterator]();
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        async cancel() {
          await iterator.return?.();
        },
      });
      return new Response(request.method === 'HEAD' ? null : stream, {
        status: 200,
        headers: {
          'content-type': info?.contentType ?? 'application/octet-stream',
          'content-disposition': `attachment; filename="${record.fileName}"`,
          ...(record.bytes !== null ? { 'content-length': String(record.bytes) } : {}),
          'x-strata-rows': String(record.rows ?? 0),
          'x-strata-truncated': String(record.truncated),
          'cache-control': 'private, no-store',
          'x-request-id': requestId,
        },
      });
    } catch (e) {
      const pub = toPublicError(e, { logger: options.logger, requestId, door: 'reports' });
      return jsonResponse(pub.status, jsonErrorBody(pub, requestId, options.isDev), { ...pub.headers, 'x-request-id': requestId });
    }
  };
}
