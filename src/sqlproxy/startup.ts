/**
 * Startup and authentication: the startup-phase requests (SSLRequest -> 'S' with TLS or 'N',
 * GSSENCRequest -> 'N', CancelRequest -> abort by pid + secret), the StartupMessage (protocol 3.x,
 * NegotiateProtocolVersion, user/application_name/TimeZone), the refusal of a cleartext password
 * over a remote link without TLS, the cleartext password (an API key or JWT) checked by the
 * authenticator, the access-watch registration, the login greeting (ParameterStatus,
 * BackendKeyData, ReadyForQuery) and the login timeout. The socket itself (and its TLS upgrade)
 * belongs to connection.ts, reached through LoginHost.
 */
import { UserError } from '../errors.js';
import { BodyReader, CANCEL_REQUEST, type FrontendMessage, GSSENC_REQUEST, type MessageReader, msg, SSL_REQUEST } from './codec.js';
import { defaultSettings, normalizeTimeZone, REPORTED } from './session.js';
import type { Session } from './session-state.js';
import { SQLSTATE } from './sql-error.js';

/** What logging in needs of the connection beyond the session's wire. */
export interface LoginHost {
  readonly session: Session;
  readonly reader: MessageReader;
  /** The link is TLS already. */
  encrypted(): boolean;
  /** Writes unframed bytes at once (the one-byte answers to SSLRequest and GSSENCRequest). */
  write(raw: string): void;
  /** Continues the connection over TLS (after answering 'S'). */
  startTls(): void;
  /** Ends the connection without an answer (after a CancelRequest). */
  end(): void;
  /** Still in the startup or password phase. */
  loggingIn(): boolean;
  /** The password is awaited next. */
  awaitPassword(): void;
  /** Logged in: messages are read with the post-login bound, and the server knows the session. */
  loggedIn(): void;
  /** Why this connection may not log in now (connection limits), if it may not. */
  refusal(stage: 'global' | 'tenant', tenantId?: string): string | undefined;
  terminate(code: string, message: string): void;
}

const AUTH_TIMEOUT_MS = 30_000;

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Logging in is bounded in time too (Postgres' authentication_timeout): a silent client cannot hold a slot. */
export function armLoginTimeout(host: LoginHost): void {
  setTimeout(() => {
    if (host.loggingIn()) host.session.wire.fatal(SQLSTATE.QUERY_CANCELED, 'canceling authentication due to timeout');
  }, AUTH_TIMEOUT_MS).unref();
}

/** A startup-phase message: SSLRequest, GSSENCRequest, CancelRequest or the StartupMessage. */
export async function startup(host: LoginHost, m: FrontendMessage): Promise<void> {
  const s = host.session;
  const r = new BodyReader(m.body);
  const code = r.int32();
  if (code === SSL_REQUEST) {
    if (!s.deps.tls || host.encrypted()) {
      host.write('N');
      return;
    }
    if (host.reader.pending) return s.wire.fatal(SQLSTATE.PROTOCOL_VIOLATION, 'unexpected data after SSLRequest');
    host.write('S');
    host.startTls();
    return;
  }
  if (code === GSSENC_REQUEST) {
    host.write('N');
    return;
  }
  if (code === CANCEL_REQUEST) {
    const pid = r.int32();
    const secret = r.int32();
    s.deps.cancel(pid, secret);
    host.end();
    return;
  }
  const major = code >> 16;
  const minor = code & 0xffff;
  if (major !== 3) return s.wire.fatal(SQLSTATE.PROTOCOL_VIOLATION, `unsupported frontend protocol ${major}.${minor}`);
  const params: Record<string, string> = {};
  const unsupported: string[] = [];
  while (r.remaining > 1) {
    const k = r.cstring();
    if (!k) break;
    const v = r.cstring();
    if (k.startsWith('_pq_.')) unsupported.push(k);
    else params[k] = v;
  }
  host.reader.startup = false;
  const full = host.refusal('global');
  if (full) return s.wire.fatal(SQLSTATE.TOO_MANY_CONNECTIONS, full);
  if (minor > 0 || unsupported.length) s.wire.send(msg.negotiateProtocolVersion(0, unsupported));
  s.user = params.user ?? '';
  s.settings = defaultSettings(s.user, params.application_name ?? '');
  if (params.TimeZone) {
    try {
      s.settings.set('TimeZone', normalizeTimeZone(params.TimeZone));
    } catch {
      /* keep UTC for zones we cannot resolve */
    }
  }
  // The password is a bearer credential: never accept it in clear over a remote, unencrypted link.
  if (!host.encrypted() && !s.deps.allowCleartextNetwork && !LOOPBACK.test(s.clientAddress)) {
    s.deps.logger.info(
      { clientAddress: s.clientAddress, user: s.user, tls: Boolean(s.deps.tls) },
      'sqlproxy refused an unencrypted remote connection (set SQL_PROXY_TLS_CERT/KEY, or SQL_PROXY_ALLOW_CLEARTEXT_NETWORK=true on a trusted network)',
    );
    return s.wire.fatal(SQLSTATE.INVALID_AUTHORIZATION, 'SSL connection is required (connect with sslmode=require)');
  }
  host.awaitPassword();
  s.wire.send(msg.authCleartext());
  s.wire.flush();
}

/** The PasswordMessage: the credential is authenticated, then the session is greeted and watched. */
export async function password(host: LoginHost, m: FrontendMessage): Promise<void> {
  const s = host.session;
  if (m.type !== 'p') return s.wire.fatal(SQLSTATE.PROTOCOL_VIOLATION, `expected password message, got '${m.type}'`);
  const credential = new BodyReader(m.body).cstring();
  try {
    s.principal = await s.deps.authenticator.authenticate(credential, {
      door: 'sqlproxy',
      clientAddress: s.clientAddress,
      userAgent: s.settings.get('application_name') || undefined,
    });
  } catch (e) {
    s.deps.logger.info({ user: s.user, clientAddress: s.clientAddress, reason: (e as Error).message }, 'sqlproxy authentication failed');
    // The credential is fine but its tenant may not be served, or it could not be checked: say so.
    if (
      e instanceof UserError &&
      (e.code === 'TENANT_UNKNOWN' || e.code === 'TENANT_SUSPENDED' || e.code === 'STORE_UNAVAILABLE' || e.code === 'AUTH_UNAVAILABLE')
    ) {
      const unavailable = e.code === 'STORE_UNAVAILABLE' || e.code === 'AUTH_UNAVAILABLE';
      return s.wire.fatal(unavailable ? '57P03' : SQLSTATE.INVALID_AUTHORIZATION, e.message);
    }
    return s.wire.fatal(SQLSTATE.INVALID_PASSWORD, `password authentication failed for user "${s.user}"`);
  }
  if (s.wire.isClosed()) return;
  const tenantFull = host.refusal('tenant', s.principal.tenantId);
  if (tenantFull) {
    s.deps.logger.info({ tenantId: s.principal.tenantId, clientAddress: s.clientAddress }, 'sqlproxy refused a session over the tenant connection limit');
    return s.wire.fatal(SQLSTATE.TOO_MANY_CONNECTIONS, tenantFull);
  }
  host.loggedIn();
  s.release = s.deps.access?.watch(s.principal, (why) => {
    s.deps.logger.info({ pid: s.pid, tenantId: s.principal?.tenantId, code: why.code }, 'sqlproxy access ended; terminating the session');
    host.terminate(SQLSTATE.INVALID_AUTHORIZATION, `terminating connection: ${why.message}`);
  });
  s.wire.send(msg.authOk());
  for (const name of REPORTED) {
    s.wire.send(msg.parameterStatus(name, s.settings.get(name) ?? ''));
  }
  s.wire.send(msg.backendKeyData(s.pid, s.secret));
  s.wire.send(msg.readyForQuery('I'));
  s.deps.logger.info({ pid: s.pid, tenantId: s.principal.tenantId, subject: s.principal.subject, user: s.user }, 'sqlproxy connection authenticated');
}
