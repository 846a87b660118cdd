/**
 * The state of one logged-in (or logging-in) session, shared by the protocol phases: who it is
 * (principal, user, client address), its settings, transaction status, prepared statements and
 * portals, the running statement (CancelRequest aborts it), pid/secret, and the access-watch
 * release. `wire` is what the phases may do with the connection's output (connection.ts owns the
 * socket); `executor` runs statements (statement.ts).
 */
import type { Principal } from '../auth/principal.js';
import type { ConnectionDeps } from './connection.js';
import type { ParsedStatement } from './parse.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { Executor } from './statement.js';

/** What the phases may do with the connection's output and lifetime (implemented by connection.ts). */
export interface Wire {
  /** Queues a message; it is written at the next flush. */
  send(b: Buffer): void;
  flush(): void;
  /** A FATAL ErrorResponse, flushed, then the socket ends. */
  fatal(code: string, message: string): void;
  /** An ErrorResponse for a failed statement or message (FATAL ones close the connection). */
  sendError(e: unknown): void;
  close(): void;
  isClosed(): boolean;
}

export interface Prepared {
  readonly name: string;
  readonly sql: string;
  /** undefined for an empty query string. */
  readonly stmt?: ParsedStatement;
  readonly paramOids: readonly number[];
  /** Parameter types inferred by describing (semantic statements). */
  inferred?: readonly number[];
}

export interface Result {
  /** RowDescription message, or null for statements that return no rows (NoData). */
  readonly rowDescription: Buffer | null;
  readonly rows: Buffer[];
  readonly tag: string;
  /** Extra messages to send before the rows (ParameterStatus after SET, notices). */
  readonly before?: Buffer[];
  readonly empty?: boolean;
}

export interface Portal {
  readonly name: string;
  readonly prepared: Prepared;
  readonly values: readonly (Buffer | null)[];
  readonly paramFormats: readonly number[];
  readonly resultFormats: readonly number[];
  result?: Result;
  sent: number;
  described: boolean;
}

export type TxStatus = 'I' | 'T' | 'E';

export class Session {
  principal?: Principal;
  user = '';
  settings = new Map<string, string>();
  tx: TxStatus = 'I';
  /** After an error in the extended protocol, messages are skipped until Sync. */
  skipUntilSync = false;
  readonly statements = new Map<string, Prepared>();
  readonly portals = new Map<string, Portal>();
  running?: AbortController;
  /** Ends the access-watch registration (set at login). */
  release?: () => void;
  readonly executor: Executor;

  constructor(
    readonly pid: number,
    readonly secret: number,
    readonly clientAddress: string,
    readonly deps: ConnectionDeps,
    readonly wire: Wire,
  ) {
    this.executor = new Executor(this);
  }

  catalog() {
    return this.deps.query.catalog(this.principal!);
  }

  failTransaction(): void {
    if (this.tx === 'T') this.tx = 'E';
  }

  checkExpiry(): void {
    const exp = this.principal?.expiresAt;
    if (exp !== undefined && Date.now() / 1000 >= exp)
      throw new SqlError(SQLSTATE.INVALID_AUTHORIZATION, 'the credential has expired; reconnect with a fresh token', undefined, 'FATAL');
  }
}
