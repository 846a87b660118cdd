/** What the query service tells the audit log about each semantic query. */
import type { Door } from './types.js';

export interface AuditEntry {
  readonly at: Date;
  readonly tenantId: string;
  readonly subject: string;
  readonly door: Door;
  readonly queryFingerprint: string;
  readonly members: readonly string[];
  readonly rows: number;
  readonly durationMs: number;
  readonly status: 'ok' | 'error';
  readonly errorCode?: string;
  readonly clientAddress?: string;
  readonly requestId: string;
}

/** Must never throw nor block: implementations buffer and write asynchronously. */
export interface AuditSink {
  record(entry: AuditEntry): void;
}
