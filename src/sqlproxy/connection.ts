/**
 * One client connection: the socket (and its TLS upgrade), framing, the strictly ordered message
 * queue, output buffering and flushing, and the session's lifetime (close, shutdown, terminate).
 * Each message goes to its protocol phase: startup.ts (startup and login), simple-query.ts,
 * extended-query.ts; statements run in statement.ts, local commands in local-commands.ts, and the
 * session's state is a Session (session-state.ts).
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Authenticator } from '../auth/authenticator.js';
import type { Logger } from '../logger.js';
import type { QueryService } from '../query/types.js';
import type { AccessWatch } from '../tenancy/access-watch.js';
import type { CatalogEngines } from './catalog-db.js';
import { BodyReader, type FrontendMessage, MessageReader, msg } from './codec.js';
import * as ext from './extended-query.js';
import type { RowLimits } from './paged-load.js';
import { Session, type Wire } from './session-state.js';
import { simpleQuery } from './simple-query.js';
import { SqlError, SQLSTATE, toSqlError } from './sql-error.js';
import { armLoginTimeout, type LoginHost, password, startup } from './startup.js';

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
  /**
   * Connection limits (Postgres' max_connections and per-role limit): the refusal message when this
   * connection may not log in — `'global'` checked at the StartupMessage (every open socket counts,
   * logged in or not), `'tenant'` once the credential names the tenant.
   */
  readonly admit?: (conn: Connection, stage: 'global' | 'tenant', tenantId?: string) => string | undefined;
  /** Most rows per statement and rows per query-service load (paged-load.ts). */
  readonly rowLimits?: RowLimits;
  /** Ends the session with a FATAL when its access ends (key revoked, tenant suspended, token expired), on any instance. */
  readonly access?: AccessWatch;
}

/** Postgres's own words for a session ended by a shutdown (what psql and drivers recognise). */
export const SHUTDOWN_MESSAGE = 'terminating connection due to administrator command';

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
  private encrypted = false;

  /** The tenant of a logged-in session (connection limits count by it). */
  get tenantId(): string | undefined {
    return this.session.principal?.tenantId;
  }
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly session: Session;
  private readonly login: LoginHost;

  constructor(
    socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.socket = socket;
    this.pid = randomInt(1, 2 ** 31 - 1);
    this.secret = randomInt(0, 2 ** 31 - 1);
    const wire: Wire = {
      send: (b) => this.send(b),
      flush: () => this.flush(),
      fatal: (code, message) => this.fatal(code, message),
      sendError: (e) => this.sendError(e),
      close: () => this.close(),
      isClosed: () => this.isClosed(),
    };
    this.session = new Session(this.pid, this.secret, socket.remoteAddress ?? '', deps, wire);
    this.login = this.loginHost();
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    armLoginTimeout(this.login);
  }

  /** Aborts the running statement (CancelRequest). */
  cancel(): void {
    this.session.running?.abort();
  }

  isClosed(): boolean {
    return this.phase === 'closed';
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.session.running?.abort();
    this.session.release?.();
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
    this.session.running?.abort();
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
    this.session.release?.();
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

  /** What startup.ts may do with the socket and the phase while logging in. */
  private loginHost(): LoginHost {
    return {
      session: this.session,
      reader: this.reader,
      encrypted: () => this.encrypted,
      write: (raw) => {
        this.socket.write(raw);
      },
      startTls: () => this.upgrade(),
      end: () => {
        this.phase = 'closed';
        this.socket.end();
      },
      loggingIn: () => this.phase === 'startup' || this.phase === 'auth',
      awaitPassword: () => {
        this.phase = 'auth';
      },
      loggedIn: () => {
        this.phase = 'ready';
        this.reader.authenticated = true;
        this.deps.register(this);
      },
      terminate: (code, message) => this.terminate(code, message),
      refusal: (stage, tenantId) => this.deps.admit?.(this, stage, tenantId),
    };
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

  // ------------------------------------------------------------------ messages

  private async handle(m: FrontendMessage): Promise<void> {
    if (this.phase === 'startup') return startup(this.login, m);
    if (this.phase === 'auth') return password(this.login, m);
    return this.message(m);
  }

  /** A message of a logged-in session, to its protocol phase. */
  private async message(m: FrontendMessage): Promise<void> {
    const s = this.session;
    if (s.skipUntilSync && m.type !== 'S' && m.type !== 'X' && m.type !== 'Q') return;
    switch (m.type) {
      case 'Q':
        s.skipUntilSync = false;
        return simpleQuery(s, new BodyReader(m.body).cstring());
      case 'P':
        return ext.extended(s, () => ext.parse(s, m.body));
      case 'B':
        return ext.extended(s, () => ext.bind(s, m.body));
      case 'D':
        return ext.extended(s, () => ext.describe(s, m.body));
      case 'E':
        return ext.extended(s, () => ext.execute(s, m.body));
      case 'C':
        return ext.extended(s, () => ext.closeMessage(s, m.body));
      case 'H':
        this.flush();
        return;
      case 'S':
        ext.sync(s);
        return;
      case 'X':
        this.close();
        return;
      case 'F':
        return ext.extended(s, async () => {
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
}
