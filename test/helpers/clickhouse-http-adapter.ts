/**
 * A ClickHouse HTTP interface over one embedded chDB data directory, for tests that need what a
 * ClickHouse server gives: several processes sharing one warehouse (there is no ClickHouse
 * server binary on our machines). Run it in its own process (libchdb binds one data dir per
 * process): `tsx test/helpers/clickhouse-http-adapter.ts <dataDir> [port]`; it prints
 * `listening <port>`. startClickhouseHttp() in clickhouse-http.ts does that for a test.
 *
 * What it speaks — the part of the interface @clickhouse/client (1.x) uses:
 *  - GET /ping -> "Ok."; GET|POST / with the statement in the `query` URL parameter and/or the body
 *    (both: `query` + "\n" + body, which is how inserts send their rows; a binary body — an INSERT
 *    ending in FORMAT RowBinary… — is written to a file and read with FROM INFILE, since chDB's
 *    inline insert data is text);
 *  - `param_<name>` query parameters (`{name:Type}` placeholders, bound by chDB), `database`,
 *    `default_format` (else FORMAT in the SQL, else TabSeparated), `query_id` (echoed);
 *  - every other URL parameter is a setting for this request only (SET before, SET … = DEFAULT
 *    after); HTTP-layer settings (wait_end_of_query, progress headers, compression) are accepted
 *    and ignored: the response is written once the statement is done, uncompressed;
 *  - errors: status 500, `X-ClickHouse-Exception-Code`, the ClickHouse message as the body (the
 *    client parses it into a ClickHouseError); success: `X-ClickHouse-Summary`, `-Query-Id`, `-Format`.
 * Not spoken: multipart parameters, request compression, sessions (`session_id`), auth (ignored).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';

const HTTP_ONLY = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'http_response_buffer_size',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
]);
const NOT_SETTINGS = new Set(['query', 'database', 'default_format', 'query_id', 'session_id', 'role', 'user', 'password', 'compress', 'decompress']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SESSIONS = 4;

const [dataDir, portArg] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: clickhouse-http-adapter <dataDir> [port]');

/** A few sessions on the one data dir: statements of different requests may overlap, as on a server. */
const free: Session[] = Array.from({ length: SESSIONS }, () => new Session(dataDir));
const waiting: ((s: Session) => void)[] = [];
async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const session = free.pop() ?? (await new Promise<Session>((resolve) => waiting.push(resolve)));
  try {
    return await fn(session);
  } finally {
    const next = waiting.shift();
    if (next) next(session);
    else free.push(session);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://adapter');
  const bytes = await readBody(req);
  const binary = BINARY_INSERT.exec(url.searchParams.get('query') ?? '');
  if (binary && bytes.length > 0) {
    const file = join(spool, `${randomUUID()}.bin`);
    await writeFile(file, bytes);
    try {
      url.searchParams.set('query', `${binary[1]} FROM INFILE '${file}' FORMAT ${binary[2]}`);
      return await run(req.method, url, '', res);
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
  return run(req.method, url, bytes.toString('utf8'), res);
}

const BINARY_INSERT = /^(INSERT INTO [\s\S]*?)\s+FORMAT\s+(RowBinary\w*)\s*$/i;
const spool = mkdtempSync(join(tmpdir(), 'strata-adapter-'));

async function run(method: string | undefined, url: URL, body: string, res: ServerResponse): Promise<void> {
  if (url.pathname === '/ping' || (method === 'GET' && !url.searchParams.has('query'))) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
    return;
  }
  const queryId = url.searchParams.get('query_id') ?? randomUUID();
  const queryParam = url.searchParams.get('query');
  const sql = queryParam !== null ? (body.length > 0 ? `${queryParam}\n${body}` : queryParam) : body;
  const database = url.searchParams.get('database') ?? 'default';
  const format = url.searchParams.get('default_format') ?? 'TabSeparated';
  const params: Record<string, string> = {};
  const settings: [string, string][] = [];
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) params[key.slice(6)] = value;
    else if (!NOT_SETTINGS.has(key) && !HTTP_ONLY.has(key)) settings.push([key, value]);
  }
  for (const [key] of settings) if (!IDENT.test(key)) throw new Error(`invalid setting ${key}`);
  if (!IDENT.test(database)) throw new Error(`invalid database ${database}`);
  const typed = bindableParams(sql, params);
  const prefix = [`USE \`${database}\``, ...settings.map(([k, v]) => `SET ${k} = ${settingLiteral(v)}`)].join('; ');
  try {
    const result = await withSession(async (session) => {
      try {
        const full = `${prefix}; ${sql}`;
        return Object.keys(typed).length > 0 ? await session.queryBindAsync(full, typed, { format }) : await session.queryAsync(full, { format });
      } finally {
        // Settings belong to this request only (a server gives each HTTP request a fresh context).
        if (settings.length > 0) await session.queryAsync(`SET ${settings.map(([k]) => `${k} = DEFAULT`).join(', ')}`).catch(() => undefined);
      }
    });
    const bytes = Buffer.from(result.bytes());
    res.writeHead(200, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-clickhouse-query-id': queryId,
      'x-clickhouse-format': format,
      'x-clickhouse-summary': JSON.stringify({
        read_rows: String(result.rowsRead ?? 0),
        read_bytes: String(result.bytesRead ?? 0),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(bytes.length),
        elapsed_ns: String(Math.round((result.elapsed ?? 0) * 1e9)),
      }),
    });
    res.end(bytes);
  } catch (e) {
    const message = (e as Error).message;
    const code = /Code: (\d+)\./.exec(message)?.[1] ?? '1001';
    res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': code, 'x-clickhouse-query-id': queryId });
    res.end(`${message.trim()}\n`);
  }
}

/**
 * Over HTTP, ClickHouse parses a parameter's text in its escaped format, and the client escapes
 * for that (\\ \' \t \n in strings, also inside arrays). chDB's binder takes a JS string as the
 * value's text but escapes its backslashes once more, so: a String placeholder gets the unescaped
 * string, an Array(String) whose text holds a backslash becomes a JS array of unescaped strings,
 * any other text goes as sent (numbers, dates, arrays without backslashes parse the same).
 */
function bindableParams(sql: string, params: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  const wrapped = (t: string) => `(?:Nullable\\(|LowCardinality\\()*${t}\\)*`;
  const placeholder = new RegExp(`\\{([A-Za-z_][A-Za-z0-9_]*)\\s*:\\s*(${wrapped('String')}|Array\\(${wrapped('String')}\\))\\s*\\}`, 'g');
  for (const [, name, type] of sql.matchAll(placeholder)) {
    const value = params[name as string];
    if (value === undefined || value === '\\N') continue;
    if (!(type as string).startsWith('Array(')) out[name as string] = unescapeText(value);
    else if (value.includes('\\')) out[name as string] = [...value.matchAll(/'((?:[^'\\]|\\.)*)'/gs)].map((m) => unescapeText(m[1] as string));
  }
  return out;
}

function unescapeText(text: string): string {
  return text.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c);
}
const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', '0': '\0' };

function settingLiteral(v: string): string {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: Error) => {
    if (!res.headersSent) res.writeHead(500, { 'x-clickhouse-exception-code': '1001' });
    res.end(`Code: 1001. DB::Exception: adapter: ${e.message}\n`);
  });
});
server.keepAliveTimeout = 10_000;
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
const stop = () => {
  server.close();
  for (const s of free) s.close();
  rmSync(spool, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
