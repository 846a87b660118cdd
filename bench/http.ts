/**
 * The load generator's HTTP POST: node:http with the caller's agent (keep-alive or not). undici's
 * fetch costs ~0.6 ms of client CPU per request, which is the load generator's, not the server's.
 */
import http from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  /** The response body parsed as JSON. */
  readonly json: unknown;
  readonly headers: http.IncomingHttpHeaders;
}

export function post(url: string | URL, headers: Record<string, string>, body: string | Buffer, agent?: http.Agent): Promise<HttpAnswer> {
  const u = typeof url === 'string' ? new URL(url) : url;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: res.headers });
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
