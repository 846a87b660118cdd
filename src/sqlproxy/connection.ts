/**
 * One client connection: startup (TLS, cleartext password = API key or JWT), then the simple
 * and extended query protocols. Messages are processed strictly in order, one at a time.
 */
import { randomInt } from 'node:crypto';
import { createRequestContext } from '../edge/context.js';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { QueryService } from '../query/types.js';
import type { SemanticQuery } from '../semantic/query.js';
import type { AccessWatch } from '../tenancy/access-watch.js';
import { catalogCompat, type CatalogEngines, type BackendMessage } from './catalog-db.js';
import { BodyReader, CANCEL_REQUEST, type FieldDescription, type FrontendMessage, frontend, GSSENC_REQUEST, MessageReader, msg, SSL_REQUEST } from './codec.js';
import { parseQuery, type ParsedStatement } from './parse.js';
import { decodeParam, encodeBinary, encodeText, OID, type ParamValue, typeSize } from './pg-types.js';
import { route } from './router.js';
import { canonicalName, defaultSettings, isReported, normalizeTimeZone, validateSetting } from './session.js';
import { SqlError, SQLSTATE, toSqlError } from './sql-error.js';
import { type Node, Positioned, positionMapper } from './translate/ast.js';
import { type SemanticPlan, translateSelect, UnknownColumnError } from './translate/select.js';
import type { ParamSource, ValueContext } from './translate/values.js';
import { DEFAULT_ROW_LIMITS, loadAllRows, type RowLimits } from './paged-load.js';
import { finish } from './translate/derived.js';

export interface ConnectionDeps {
  readonly query: QueryService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly engines: CatalogEngines;
  readonly tls?: SecureContext;
  /** Accept cleartext passwords from non-loopback clients without TLS (SQL_PROXY_ALLOW_CLEARTEXT_NETWORK). */
  readonly allowCleartextNetwork?: boolean;
  readonly register: (conn: Connection) => void;
  readonly unregister: (conn: Connection) => void;
  readonly cancel: (pid: number, secret: number) => void;
  /** Most rows per statement and rows per query-service load (paged-load.ts). */
  readonly rowLimits?: RowLimits;
  /** Ends the session with a FATAL when its access ends (key revoked, tenant suspended, token expired), on any instance. */
  readonly access?: AccessWatch;
}

interface Prepared {
  readonly name: string;
  readonly sql: string;
  /** undefined for an empty query string. */
  readonly stmt?: ParsedStatement;
  readonly paramOids: readonly number[];
  /** Parameter types inferred by describing (semantic statements). */
  inferred?: readonly number[];
}

interface Result {
  /** RowDescription message, or null for statements that return no rows (NoData). */
  readonly rowDescription: Buffer | null;
  readonly rows: Buffer[];
  readonly tag: string;
  /** Extra messages to send before the rows (ParameterStatus after SET, notices). */
  readonly before?: Buffer[];
  readonly empty?: boolean;
}

interface Portal {
  readonly name: string;
  readonly prepared: Prepared;
  readonly values: readonly (Buffer | null)[];
  readonly paramFormats: readonly number[];
  readonly resultFormats: readonly number[];
  result?: Result;
  sent: number;
  described: boolean;
}

type TxStatus = 'I' | 'T' | 'E';

/** Postgres's own words for a session ended by a shutdown (what psql and drivers recognise). */
export const SHUTDOWN_MESSAGE = 'terminating connection due to administrator command';

const AUTH_TIMEOUT_MS = 30_000;

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export class Connection {
  readonly pid: number;
  readonly secret: number;
  private socket: Socket;
  private readonly reader = new MessageReader();
  private readonly queue: FrontendMessage[] = [];
  private processing = false;
  private shuttingDown = false;
  private phase: 'startup' | 'auth' | 'ready' | 'closed' = 'startup';
  private out: Buffer[] = [];
  private principal?: Principal;
  private user = '';
  private settings = new Map<string, string>();
  private tx: TxStatus = 'I';
  private skipUntilSync = false;
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private running?: AbortController;
  private readonly clientAddress: string;
  private encrypted = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private release?: () => void;

  constructor(
    socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.socket = socket;
    this.pid = randomInt(1, 2 ** 31 - 1);
    this.secret = randomInt(0, 2 ** 31 - 1);
    this.clientAddress = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    // Logging in is bounded in time too (Postgres' authentication_timeout): a silent client cannot hold a slot.
    setTimeout(() => {
      if (this.phase === 'startup' || this.phase === 'auth') this.fatal(SQLSTATE.QUERY_CANCELED, 'canceling authentication due to timeout');
    }, AUTH_TIMEOUT_MS).unref();
  }

  /** Aborts the running statement (CancelRequest). */
  cancel(): void {
    this.running?.abort();
  }

  isClosed(): boolean {
    return this.phase === 'closed';
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.running?.abort();
    this.release?.();
    this.deps.unregister(this);
    this.socket.destroy();
  }

  /**
   * Graceful shutdown (drain): an idle session ends now with FATAL 57P01 admin_shutdown; a running
   * statement finishes and is answered first. terminate() at the deadline cuts it short.
   */
  shutdown(): void {
    this.shuttingDown = true;
    if (!this.processing) this.terminate(SQLSTATE.ADMIN_SHUTDOWN, SHUTDOWN_MESSAGE);
  }

  /** Ends the session because its access ended: a FATAL ErrorResponse, then the socket closes. */
  terminate(code: string, message: string): void {
    if (this.phase === 'closed') return;
    this.running?.abort();
    this.out = [];
    this.fatal(code, message);
  }

  // ------------------------------------------------------------------ I/O

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    let messages: FrontendMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (e) {
      this.fatal(SQLSTATE.PROTOCOL_VIOLATION, (e as Error).message);
      // A client announcing an oversized message may keep sending: stop reading it at once.
      setImmediate(() => this.socket.destroy());
      return;
    }
    this.queue.push(...messages);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length && this.phase !== 'closed') {
        const m = this.queue.shift()!;
        await this.handle(m);
        // Startup-phase messages are framed one at a time: frame what the client sent after it.
        if (!this.queue.length && this.reader.pending && !this.isClosed()) this.queue.push(...this.reader.push(Buffer.alloc(0)));
      }
    } catch (e) {
      this.deps.logger.error({ err: e }, 'sqlproxy connection failed');
      this.close();
    } finally {
      this.processing = false;
      this.flush();
      if (this.shuttingDown) this.terminate(SQLSTATE.ADMIN_SHUTDOWN, SHUTDOWN_MESSAGE);
    }
  }

  private send(b: Buffer): void {
    this.out.push(b);
  }

  private flush(): void {
    if (!this.out.length || this.phase === 'closed') {
      this.out = [];
      return;
    }
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(data);
  }

  private fatal(code: string, message: string): void {
    this.send(msg.error({ severity: 'FATAL', code, message }));
    this.flush();
    this.socket.end();
    this.phase = 'closed';
    this.release?.();
    this.deps.unregister(this);
  }

  private sendError(e: unknown): void {
    const { error, unexpected } = toSqlError(e);
    if (unexpected) this.deps.logger.error({ err: e, pid: this.pid }, 'sqlproxy statement failed');
    this.send(msg.error({ severity: error.severity, code: error.code, message: error.message, position: error.position, hint: error.hint }));
    if (error.severity === 'FATAL') {
      this.flush();
      this.close();
    }
  }

  // ------------------------------------------------------------------ startup

  private async handle(m: FrontendMessage): Promise<void> {
    if (this.phase === 'startup') return this.startup(m);
    if (this.phase === 'auth') return this.password(m);
    return this.message(m);
  }

  private async startup(m: FrontendMessage): Promise<void> {
    const r = new BodyReader(m.body);
    const code = r.int32();
    if (code === SSL_REQUEST) {
      if (!this.deps.tls || this.encrypted) {
        this.socket.write('N');
        return;
      }
      if (this.reader.pending) return this.fatal(SQLSTATE.PROTOCOL_VIOLATION, 'unexpected data after SSLRequest');
      this.socket.write('S');
      this.upgrade();
      return;
    }
    if (code === GSSENC_REQUEST) {
      this.socket.write('N');
      return;
    }
    if (code === CANCEL_REQUEST) {
      const pid = r.int32();
      const secret = r.int32();
      this.deps.cancel(pid, secret);
      this.phase = 'closed';
      this.socket.end();
      return;
    }
    const major = code >> 16;
    const minor = code & 0xffff;
    if (major !== 3) return this.fatal(SQLSTATE.PROTOCOL_VIOLATION, `unsupported frontend protocol ${major}.${minor}`);
    const params: Record<string, string> = {};
    const unsupported: string[] = [];
    while (r.remaining > 1) {
      const k = r.cstring();
      if (!k) break;
      const v = r.cstring();
      if (k.startsWith('_pq_.')) unsupported.push(k);
      else params[k] = v;
    }
    this.reader.startup = false;
    if (minor > 0 || unsupported.length) this.send(msg.negotiateProtocolVersion(0, unsupported));
    this.user = params.user ?? '';
    this.settings = defaultSettings(this.user, params.application_name ?? '');
    if (params.TimeZone) {
      try {
        this.settings.set('TimeZone', normalizeTimeZone(params.TimeZone));
      } catch {
        /* keep UTC for zones we cannot resolve */
      }
    }
    // The password is a bearer credential: never accept it in clear over a remote, unencrypted link.
    if (!this.encrypted && !this.deps.allowCleartextNetwork && !LOOPBACK.test(this.clientAddress)) {
      this.deps.logger.info(
        { clientAddress: this.clientAddress, user: this.user, tls: Boolean(this.deps.tls) },
        'sqlproxy refused an unencrypted remote connection (set SQL_PROXY_TLS_CERT/KEY, or SQL_PROXY_ALLOW_CLEARTEXT_NETWORK=true on a trusted network)',
      );
      return this.fatal(SQLSTATE.INVALID_AUTHORIZATION, 'SSL connection is required (connect with sslmode=require)');
    }
    this.phase = 'auth';
    this.send(msg.authCleartext());
    this.flush();
  }

  private upgrade(): void {
    const raw = this.socket;
    raw.off('data', this.onData);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.deps.tls });
    secure.on('data', this.onData);
    secure.on('error', () => this.close());
    secure.on('close', () => this.close());
    this.socket = secure;
    this.encrypted = true;
  }

  private async password(m: FrontendMessage): Promise<void> {
    if (m.type !== 'p') return this.fatal(SQLSTATE.PROTOCOL_VIOLATION, `expected password message, got '${m.type}'`);
    const password = new BodyReader(m.body).cstring();
    try {
      this.principal = await this.deps.authenticator.authenticate(password, {
        door: 'sqlproxy',
        clientAddress: this.clientAddress,
        userAgent: this.settings.get('application_name') || undefined,
      });
    } catch (e) {
      this.deps.logger.info({ user: this.user, clientAddress: this.clientAddress, reason: (e as Error).message }, 'sqlproxy authentication failed');
      // The credential is fine but its tenant may not be served, or it could not be checked: say so.
      if (
        e instanceof UserError &&
        (e.code === 'TENANT_UNKNOWN' || e.code === 'TENANT_SUSPENDED' || e.code === 'STORE_UNAVAILABLE' || e.code === 'AUTH_UNAVAILABLE')
      ) {
        const unavailable = e.code === 'STORE_UNAVAILABLE' || e.code === 'AUTH_UNAVAILABLE';
        return this.fatal(unavailable ? '57P03' : SQLSTATE.INVALID_AUTHORIZATION, e.message);
      }
      return this.fatal(SQLSTATE.INVALID_PASSWORD, `password authentication failed for user "${this.user}"`);
    }
    if (this.isClosed()) return;
    this.phase = 'ready';
    this.reader.authenticated = true;
    this.deps.register(this);
    this.release = this.deps.access?.watch(this.principal, (why) => {
      this.deps.logger.info({ pid: this.pid, tenantId: this.principal?.tenantId, code: why.code }, 'sqlproxy access ended; terminating the session');
      this.terminate(SQLSTATE.INVALID_AUTHORIZATION, `terminating connection: ${why.message}`);
    });
    this.send(msg.authOk());
    for (const name of [
      'server_version',
      'server_encoding',
      'client_encoding',
      'DateStyle',
      'IntervalStyle',
      'TimeZone',
      'integer_datetimes',
      'standard_conforming_strings',
      'application_name',
      'is_superuser',
      'session_authorization',
    ]) {
      this.send(msg.parameterStatus(name, this.settings.get(name) ?? ''));
    }
    this.send(msg.backendKeyData(this.pid, this.secret));
    this.send(msg.readyForQuery('I'));
    this.deps.logger.info(
      { pid: this.pid, tenantId: this.principal.tenantId, subject: this.principal.subject, user: this.user },
      'sqlproxy connection authenticated',
    );
  }

  // ------------------------------------------------------------------ messages

  private async message(m: FrontendMessage): Promise<void> {
    if (this.skipUntilSync && m.type !== 'S' && m.type !== 'X' && m.type !== 'Q') return;
    switch (m.type) {
      case 'Q':
        this.skipUntilSync = false;
        return this.simpleQuery(new BodyReader(m.body).cstring());
      case 'P':
        return this.extended(() => this.parse(m.body));
      case 'B':
        return this.extended(() => this.bind(m.body));
      case 'D':
        return this.extended(() => this.describe(m.body));
      case 'E':
        return this.extended(() => this.execute(m.body));
      case 'C':
        return this.extended(() => this.closeMessage(m.body));
      case 'H':
        this.flush();
        return;
      case 'S':
        this.skipUntilSync = false;
        // Outside a transaction block, Sync ends the implicit transaction and its portals.
        if (this.tx === 'I') this.portals.clear();
        this.send(msg.readyForQuery(this.tx));
        this.flush();
        return;
      case 'X':
        this.close();
        return;
      case 'F':
        return this.extended(async () => {
          throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'function call protocol is not supported');
        });
      case 'd':
      case 'c':
      case 'f':
        return; // COPY data outside COPY: ignored, as Postgres does
      default:
        return this.fatal(SQLSTATE.PROTOCOL_VIOLATION, `invalid frontend message type ${m.type.charCodeAt(0)}`);
    }
  }

  private async extended(step: () => Promise<void>): Promise<void> {
    try {
      this.checkExpiry();
      await step();
    } catch (e) {
      this.sendError(e);
      this.failTransaction();
      this.skipUntilSync = true;
    }
  }

  private failTransaction(): void {
    if (this.tx === 'T') this.tx = 'E';
  }

  private checkExpiry(): void {
    const exp = this.principal?.expiresAt;
    if (exp !== undefined && Date.now() / 1000 >= exp)
      throw new SqlError(SQLSTATE.INVALID_AUTHORIZATION, 'the credential has expired; reconnect with a fresh token', undefined, 'FATAL');
  }

  // ---- simple query

  private async simpleQuery(sql: string): Promise<void> {
    try {
      this.checkExpiry();
      const parsed = parseQuery(sql);
      if (!parsed.statements.length) {
        this.send(msg.emptyQuery());
      }
      const position = positionMapper(sql);
      for (const stmt of parsed.statements) {
        const result = await this.run(stmt, position, [], [], [], [], stmt.offset);
        if (result.before) for (const b of result.before) this.send(b);
        if (result.rowDescription) this.send(result.rowDescription);
        for (const row of result.rows) this.send(row);
        this.send(msg.commandComplete(result.tag));
        this.flush();
      }
    } catch (e) {
      this.sendError(e);
      this.failTransaction();
    }
    if (this.phase === 'closed') return;
    this.send(msg.readyForQuery(this.tx));
    this.flush();
  }

  // ---- extended protocol

  private async parse(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const name = r.cstring();
    const sql = r.cstring();
    const n = r.int16();
    const oids: number[] = [];
    for (let i = 0; i < n; i++) oids.push(r.uint32());
    if (name && this.statements.has(name)) throw new SqlError(SQLSTATE.DUPLICATE_PSTATEMENT, `prepared statement "${name}" already exists`);
    const parsed = parseQuery(sql);
    if (parsed.statements.length > 1) throw new SqlError(SQLSTATE.SYNTAX, 'cannot insert multiple commands into a prepared statement');
    this.statements.set(name, { name, sql, stmt: parsed.statements[0], paramOids: oids });
    this.send(msg.parseComplete());
  }

  private async bind(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const portalName = r.cstring();
    const stmtName = r.cstring();
    const prepared = this.statements.get(stmtName);
    if (!prepared) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${stmtName}" does not exist`);
    const paramFormats: number[] = [];
    for (let i = 0, n = r.int16(); i < n; i++) paramFormats.push(r.int16());
    const values: (Buffer | null)[] = [];
    for (let i = 0, n = r.int16(); i < n; i++) {
      const len = r.int32();
      values.push(len < 0 ? null : Buffer.from(r.bytes(len)));
    }
    const resultFormats: number[] = [];
    for (let i = 0, n = r.int16(); i < n; i++) resultFormats.push(r.int16());
    if (portalName && this.portals.has(portalName)) throw new SqlError('42P03', `cursor "${portalName}" already exists`);
    this.portals.set(portalName, { name: portalName, prepared, values, paramFormats, resultFormats, sent: 0, described: false });
    this.send(msg.bindComplete());
  }

  private async describe(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const kind = r.byte();
    const name = r.cstring();
    if (kind === 'S') {
      const prepared = this.statements.get(name);
      if (!prepared) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${name}" does not exist`);
      const { paramOids, rowDescription } = await this.describeStatement(prepared);
      this.send(msg.parameterDescription(paramOids));
      this.send(rowDescription ?? msg.noData());
      return;
    }
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError(SQLSTATE.INVALID_CURSOR, `portal "${name}" does not exist`);
    const result = await this.portalResult(portal);
    portal.described = true;
    this.send(result.rowDescription ?? msg.noData());
  }

  private async execute(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError(SQLSTATE.INVALID_CURSOR, `portal "${name}" does not exist`);
    if (!portal.prepared.stmt) {
      this.send(msg.emptyQuery());
      return;
    }
    const result = await this.portalResult(portal);
    if (portal.sent === 0 && result.before) for (const b of result.before) this.send(b);
    const end = maxRows > 0 ? Math.min(result.rows.length, portal.sent + maxRows) : result.rows.length;
    for (let i = portal.sent; i < end; i++) this.send(result.rows[i]);
    portal.sent = end;
    if (maxRows > 0 && end < result.rows.length) {
      this.send(msg.portalSuspended());
      return;
    }
    this.send(msg.commandComplete(result.tag));
    // The unnamed portal is dropped at the next Bind; named portals live until Close/Sync of tx.
  }

  private async closeMessage(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const kind = r.byte();
    const name = r.cstring();
    if (kind === 'S') this.statements.delete(name);
    else this.portals.delete(name);
    this.send(msg.closeComplete());
  }

  private async portalResult(portal: Portal): Promise<Result> {
    if (portal.result) return portal.result;
    const prepared = portal.prepared;
    if (!prepared.stmt) return (portal.result = { rowDescription: null, rows: [], tag: '' });
    const oids =
      prepared.paramOids.length >= portal.values.length
        ? prepared.paramOids
        : [...prepared.paramOids, ...new Array(portal.values.length - prepared.paramOids.length).fill(0)];
    portal.result = await this.run(prepared.stmt, positionMapper(prepared.sql), portal.values, portal.paramFormats, oids, portal.resultFormats, 0, prepared);
    return portal.result;
  }

  private async describeStatement(prepared: Prepared): Promise<{ paramOids: number[]; rowDescription: Buffer | null }> {
    const stmt = prepared.stmt;
    if (!stmt) return { paramOids: [], rowDescription: null };
    const catalog = this.catalog();
    const position = positionMapper(prepared.sql);
    const r = route(stmt, catalog, position);
    switch (r.kind) {
      case 'refused':
        throw r.error;
      case 'local':
        return { paramOids: [], rowDescription: stmt.kind === 'VariableShowStmt' ? this.showDescription(stmt.node) : null };
      case 'catalog': {
        const engine = await this.deps.engines.forCatalog(catalog);
        const out = await engine.run([frontend.parse('', catalogCompat(stmt.text), prepared.paramOids), frontend.describe('S', '')]);
        const t = out.find((m) => m.type === 't');
        const paramOids: number[] = [];
        if (t) {
          const br = new BodyReader(t.body);
          for (let i = 0, n = br.int16(); i < n; i++) paramOids.push(br.uint32());
        }
        const rd = out.find((m) => m.type === 'T');
        return { paramOids, rowDescription: rd ? rd.raw : null };
      }
      case 'semantic': {
        const expected = new Map<number, number>();
        const params: ParamSource = {
          value: () => undefined,
          expect: (n, oid) => {
            if (!expected.has(n)) expected.set(n, oid);
          },
          count: 0,
          bound: false,
        };
        const plan = await this.translate(r.select, params, position);
        const count = Math.max(prepared.paramOids.length, ...expected.keys(), 0);
        const paramOids: number[] = [];
        for (let i = 1; i <= count; i++) paramOids.push(prepared.paramOids[i - 1] || expected.get(i) || OID.text);
        prepared.inferred = paramOids;
        return { paramOids, rowDescription: this.rowDescription(plan, []) };
      }
    }
  }

  // ------------------------------------------------------------------ execution

  private catalog() {
    return this.deps.query.catalog(this.principal!);
  }

  /** Runs one statement to completion and encodes its rows. */
  private async run(
    stmt: ParsedStatement,
    position: (loc: number | undefined) => number | undefined,
    values: readonly (Buffer | null)[],
    paramFormats: readonly number[],
    paramOids: readonly number[],
    resultFormats: readonly number[],
    offset: number,
    prepared?: Prepared,
  ): Promise<Result> {
    if (this.tx === 'E' && !isTransactionEnd(stmt.node)) {
      throw new SqlError(SQLSTATE.IN_FAILED_TX, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    const catalog = this.catalog();
    const r = route(stmt, catalog, position);
    const started = Date.now();
    switch (r.kind) {
      case 'refused':
        throw r.error;
      case 'local':
        return this.local(stmt.node, resultFormats);
      case 'catalog': {
        const engine = await this.deps.engines.forCatalog(catalog);
        const formats = paramFormats.length ? paramFormats : [];
        const out = await engine.run(
          [
            frontend.parse('', catalogCompat(stmt.text), paramOids),
            frontend.bind('', '', formats, values, resultFormats),
            frontend.describe('P', ''),
            frontend.execute('', 0),
          ],
          offset,
        );
        this.deps.logger.debug({ pid: this.pid, route: 'catalog', ms: Date.now() - started, sql: stmt.text.slice(0, 200) }, 'sqlproxy statement');
        return catalogResult(out);
      }
      case 'semantic': {
        const decoded = this.decodeParams(values, paramFormats, paramOids, prepared);
        const params: ParamSource = {
          value: (n) => (n <= decoded.length ? decoded[n - 1] : undefined),
          expect: () => {},
          count: decoded.length,
          bound: true,
        };
        const plan = await this.translate(r.select, params, position);
        const loaded = plan.empty && !plan.post ? [] : await loadAllRows(plan.query, this.deps.rowLimits ?? DEFAULT_ROW_LIMITS, (q) => this.load(q));
        const rows = plan.post ? finish(plan.post, plan.empty ? [] : loaded, this.valueContext(position)) : loaded;
        const result: Result = {
          rowDescription: this.rowDescription(plan, resultFormats),
          rows: rows.map((row) => encodeRow(plan, row, resultFormats)),
          tag: `SELECT ${rows.length}`,
        };
        this.deps.logger.debug({ pid: this.pid, route: 'semantic', ms: Date.now() - started, rows: rows.length }, 'sqlproxy statement');
        return result;
      }
    }
  }

  private decodeParams(values: readonly (Buffer | null)[], formats: readonly number[], oids: readonly number[], prepared?: Prepared): ParamValue[] {
    return values.map((v, i) => {
      const format = formats.length === 1 ? formats[0] : (formats[i] ?? 0);
      const oid = oids[i] || prepared?.inferred?.[i] || 0;
      if (format === 1 && !oid) throw new SqlError(SQLSTATE.PROTOCOL_VIOLATION, `binary parameter $${i + 1} has no declared type`);
      return decodeParam(oid, format, v);
    });
  }

  /** Clock, zone and positions for the expressions finished over loaded rows (translate/post.ts). */
  private valueContext(position: (loc: number | undefined) => number | undefined): ValueContext {
    const noParams: ParamSource = { value: () => undefined, expect: () => {}, count: 0, bound: true };
    return { at: new Positioned(position), params: noParams, now: new Date(), timezone: this.settings.get('TimeZone') ?? 'UTC' };
  }

  private async translate(select: Node, params: ParamSource, position: (loc: number | undefined) => number | undefined): Promise<SemanticPlan> {
    try {
      return translateSelect(select, {
        catalog: this.catalog(),
        params,
        now: new Date(),
        timezone: this.settings.get('TimeZone') ?? 'UTC',
        position,
      });
    } catch (e) {
      if (e instanceof UnknownColumnError && e.memberPath) throw this.probeForbidden(e);
      throw e;
    }
  }

  /** A column the caller cannot see may exist behind a scope: report 42501 rather than 42703. */
  private probeForbidden(e: UnknownColumnError): SqlError {
    const path = e.memberPath!;
    const probes: SemanticQuery[] = [{ measures: [path] }, { dimensions: [path] }, { segments: [path] }];
    for (const q of probes) {
      try {
        this.deps.query.compile(this.principal!, q);
      } catch (err) {
        if (err instanceof ForbiddenError) {
          // A refusal: into the tenant's audit trail like every door's (the query service records it).
          this.deps.query.refused?.(
            createRequestContext({
              door: 'sqlproxy',
              principal: this.principal!,
              clientAddress: this.clientAddress,
              userAgent: this.settings.get('application_name') || undefined,
            }),
            err,
            'query',
          );
          const [table, column] = [path.slice(0, path.indexOf('.')), path.slice(path.indexOf('.') + 1)];
          return new SqlError(SQLSTATE.INSUFFICIENT_PRIVILEGE, `permission denied for column "${column}" of relation "${table}"`, e.position);
        }
      }
    }
    return e;
  }

  private async load(query: SemanticQuery) {
    const controller = new AbortController();
    this.running = controller;
    const ctx = createRequestContext({
      door: 'sqlproxy',
      principal: this.principal!,
      clientAddress: this.clientAddress,
      userAgent: this.settings.get('application_name') || undefined,
      signal: controller.signal,
    });
    const cancelled = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new SqlError(SQLSTATE.QUERY_CANCELED, 'canceling statement due to user request')), {
        once: true,
      });
    });
    const loading = this.deps.query.load(ctx, query);
    loading.catch(() => undefined);
    cancelled.catch(() => undefined);
    try {
      const result = await Promise.race([loading, cancelled]);
      return result.rows;
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  private rowDescription(plan: SemanticPlan, formats: readonly number[]): Buffer {
    const fields: FieldDescription[] = plan.columns.map((c, i) => ({
      name: c.name,
      typeOid: c.oid,
      typeSize: typeSize(c.oid),
      format: formatAt(formats, i),
    }));
    return msg.rowDescription(fields);
  }

  // ------------------------------------------------------------------ local statements

  private local(node: Node, formats: readonly number[]): Result {
    const kind = Object.keys(node)[0];
    const s = node[kind];
    switch (kind) {
      case 'TransactionStmt':
        return this.transaction(s);
      case 'VariableSetStmt':
        return this.set(s);
      case 'VariableShowStmt': {
        const [name, value] = this.show(s.name);
        return {
          rowDescription: msg.rowDescription([{ name, typeOid: OID.text, typeSize: -1, format: formatAt(formats, 0) }]),
          rows: [msg.dataRow([formatAt(formats, 0) ? encodeBinary(OID.text, value) : Buffer.from(value, 'utf8')])],
          tag: 'SHOW',
        };
      }
      case 'DiscardStmt':
        this.statements.clear();
        this.portals.clear();
        this.settings = defaultSettings(this.user, this.settings.get('application_name') ?? '');
        return { rowDescription: null, rows: [], tag: `DISCARD ${String(s.target ?? 'DISCARD_ALL').replace('DISCARD_', '')}` };
      case 'DeallocateStmt':
        if (s.isall || !s.name) {
          for (const k of [...this.statements.keys()]) if (k) this.statements.delete(k);
          return { rowDescription: null, rows: [], tag: 'DEALLOCATE ALL' };
        }
        if (!this.statements.delete(s.name)) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${s.name}" does not exist`);
        return { rowDescription: null, rows: [], tag: 'DEALLOCATE' };
      default:
        throw new SqlError(SQLSTATE.NOT_SUPPORTED, `${kind} is not supported`);
    }
  }

  private showDescription(node: Node): Buffer {
    const [name] = this.show(node.VariableShowStmt.name);
    return msg.rowDescription([{ name, typeOid: OID.text, typeSize: -1, format: 0 }]);
  }

  private show(name: string): [string, string] {
    const lower = String(name).toLowerCase();
    if (lower === 'all') throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'SHOW ALL is not supported; SHOW one setting');
    if (lower === 'transaction isolation level' || lower === 'transaction_isolation') return ['transaction_isolation', 'read committed'];
    const canonical = canonicalName(lower);
    const value = canonical ? this.settings.get(canonical) : this.settings.get(lower);
    if (value === undefined) throw new SqlError(SQLSTATE.UNDEFINED_OBJECT, `unrecognized configuration parameter "${name}"`);
    return [canonical ?? lower, value];
  }

  private set(s: Node): Result {
    const kind: string = s.kind;
    if (kind === 'VAR_SET_MULTI') return { rowDescription: null, rows: [], tag: 'SET' }; // SET TRANSACTION / SESSION CHARACTERISTICS
    if (kind === 'VAR_RESET_ALL') {
      this.settings = defaultSettings(this.user, this.settings.get('application_name') ?? '');
      return { rowDescription: null, rows: [], tag: 'RESET' };
    }
    const name = String(s.name);
    const canonical = canonicalName(name) ?? (name === 'timezone' ? 'TimeZone' : undefined);
    const defaults = defaultSettings(this.user, '');
    let value: string;
    if (kind === 'VAR_SET_DEFAULT' || kind === 'VAR_RESET') value = canonical ? (defaults.get(canonical) ?? '') : '';
    else if (kind === 'VAR_SET_CURRENT') return { rowDescription: null, rows: [], tag: 'SET' };
    else value = setValue(s.args ?? []);
    const stored = validateSetting(canonical, name, value);
    const key = canonical ?? name.toLowerCase();
    this.settings.set(key, stored);
    const before = canonical && isReported(canonical) ? [msg.parameterStatus(canonical, stored)] : undefined;
    return { rowDescription: null, rows: [], tag: kind === 'VAR_RESET' ? 'RESET' : 'SET', before };
  }

  private transaction(s: Node): Result {
    const kind: string = s.kind;
    const done = (tag: string, before?: Buffer[]): Result => ({ rowDescription: null, rows: [], tag, before });
    switch (kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START': {
        const warn =
          this.tx !== 'I' ? [msg.error({ severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' }, 'N')] : undefined;
        if (this.tx === 'I') this.tx = 'T';
        return done(kind === 'TRANS_STMT_BEGIN' ? 'BEGIN' : 'START TRANSACTION', warn);
      }
      case 'TRANS_STMT_COMMIT': {
        const failed = this.tx === 'E';
        const warn = this.tx === 'I' ? [msg.error({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }, 'N')] : undefined;
        this.tx = 'I';
        return done(failed ? 'ROLLBACK' : 'COMMIT', warn);
      }
      case 'TRANS_STMT_ROLLBACK': {
        const warn = this.tx === 'I' ? [msg.error({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }, 'N')] : undefined;
        this.tx = 'I';
        return done('ROLLBACK', warn);
      }
      case 'TRANS_STMT_SAVEPOINT':
        if (this.tx === 'I') throw new SqlError('25P01', 'SAVEPOINT can only be used in transaction blocks');
        return done('SAVEPOINT');
      case 'TRANS_STMT_RELEASE':
        return done('RELEASE');
      case 'TRANS_STMT_ROLLBACK_TO':
        if (this.tx === 'E') this.tx = 'T';
        return done('ROLLBACK');
      default:
        throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'two-phase commit is not supported');
    }
  }
}

function isTransactionEnd(node: Node): boolean {
  const t = node.TransactionStmt;
  return !!t && ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_ROLLBACK_TO'].includes(t.kind);
}

function setValue(args: Node[]): string {
  return args
    .map((a) => {
      const c = a.A_Const ?? a.TypeCast?.arg?.A_Const;
      if (!c) return '';
      if (c.sval) return c.sval.sval;
      if (c.ival) return String(c.ival.ival);
      if ('ival' in c) return '0';
      if (c.fval) return c.fval.fval;
      if (c.boolval) return c.boolval.boolval ? 'on' : 'off';
      return '';
    })
    .join(', ');
}

function formatAt(formats: readonly number[], i: number): number {
  if (!formats.length) return 0;
  return formats.length === 1 ? formats[0] : (formats[i] ?? 0);
}

function encodeRow(plan: SemanticPlan, row: Readonly<Record<string, string | number | boolean | null>>, formats: readonly number[]): Buffer {
  return msg.dataRow(
    plan.columns.map((c, i) => {
      const v = c.source.kind === 'constant' ? c.source.value : (row[c.source.key] ?? null);
      if (formatAt(formats, i) === 1) return encodeBinary(c.oid, v);
      const text = encodeText(c.oid, v);
      return text === null ? null : Buffer.from(text, 'utf8');
    }),
  );
}

function catalogResult(out: BackendMessage[]): Result {
  const rd = out.find((m) => m.type === 'T');
  const rows = out.filter((m) => m.type === 'D').map((m) => m.raw);
  const cc = out.find((m) => m.type === 'C');
  const tag = cc ? cc.body.toString('utf8', 0, cc.body.length - 1) : 'SELECT 0';
  return { rowDescription: rd ? rd.raw : null, rows, tag };
}
