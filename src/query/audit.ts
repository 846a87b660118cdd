/** What the query service tells the audit log about each semantic query and each refusal it sees. */
import type { Door } from './types.js';

export interface AuditEntry {
  readonly at: Date;
  readonly tenantId: string;
  readonly subject: string;
  readonly door: Door;
  readonly queryFingerprint: string | null;
  readonly members: readonly string[];
  readonly rows: number;
  readonly durationMs: number;
  /** ok | error | denied (a refusal) */
  readonly status: string;
  readonly errorCode?: string;
  readonly clientAddress?: string;
  readonly requestId: string;
  readonly kind?: 'read' | 'change' | 'refusal';
  readonly action?: string;
  readonly userAgent?: string;
}

/** Must never throw nor block: implementations buffer and write asynchronously. */
export interface AuditSink {
  record(entry: AuditEntry): void;
}
