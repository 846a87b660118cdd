/**
 * The audit trail of the caller's tenant (scope audit:read), newest first: reads, changes (before/after)
 * and refusals. For aggregates ("actions by user per day") query the `audit_events` cube.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { AuditLog, AuditRecord } from '../../store/audit.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar } from './types.js';

export const MAX_AUDIT_PAGE = 1_000;

export function auditExtension(audit: AuditLog): SchemaExtension {
  return {
    queries: (builder) => {
      const DateTime = dateTimeScalar(builder);
      const entry = builder.objectRef<AuditRecord>('AuditEntry').implement({
        description: 'One event: a data read, a change or a refusal (any door: graphql, rest, sqlproxy, live, ingest, cli).',
        fields: (t) => ({
          id: t.id({ description: 'Pass as `before` to read the next (older) page.', resolve: (e) => String(e.id) }),
          at: t.field({ type: DateTime, resolve: (e) => e.at }),
          subject: t.exposeString('subject', { description: 'Token subject or API key id.' }),
          door: t.exposeString('door'),
          queryFingerprint: t.exposeString('queryFingerprint', {
            nullable: true,
            description: 'Hash of the normalized query: equal queries, equal fingerprints.',
          }),
          members: t.exposeStringList('members', { description: 'Members the query read (selected, filtered, ordered).' }),
          rows: t.exposeInt('rows', { nullable: true }),
          durationMs: t.exposeInt('durationMs', { nullable: true }),
          status: t.exposeString('status', { description: 'ok or error.' }),
          errorCode: t.exposeString('errorCode', { nullable: true }),
          clientAddress: t.exposeString('clientAddress', { nullable: true }),
          requestId: t.exposeString('requestId', { nullable: true }),
          kind: t.string({ description: 'read, change or refusal.', resolve: (e) => e.kind }),
          action: t.exposeString('action', {
            nullable: true,
            description: 'query, api_key.create, dashboard.update, role.delete, ingest.batch, authenticate ...',
          }),
          target: t.exposeString('target', { nullable: true, description: "The changed object's id." }),
          before: t.field({ type: 'JSON', nullable: true, description: 'The object before the change.', resolve: (e) => e.before ?? null }),
          after: t.field({ type: 'JSON', nullable: true, description: 'The object after the change.', resolve: (e) => e.after ?? null }),
          userAgent: t.exposeString('userAgent', { nullable: true }),
        }),
      });

      builder.queryField('auditLog', (t) =>
        t.field({
          type: [entry],
          nullable: true,
          description: 'Reads, changes and refusals of your tenant, newest first. Entries are written in the background and appear within about a second.',
          authScopes: { allOf: [SCOPES.AUDIT_READ] },
          extensions: { requiresScopes: [SCOPES.AUDIT_READ] },
          args: {
            limit: t.arg.int({ defaultValue: 50, description: `Entries per page (1-${MAX_AUDIT_PAGE}).` }),
            before: t.arg.id({ description: 'Only entries older than this id (the last id of the previous page).' }),
            kind: t.arg.string({ description: 'Only this kind: read, change or refusal.' }),
          },
          resolve: (_root, { limit, before, kind }, ctx) => {
            if (kind != null && kind !== 'read' && kind !== 'change' && kind !== 'refusal') {
              throw new UserError('BAD_USER_INPUT', 'kind must be read, change or refusal');
            }
            const n = limit ?? 50;
            if (n < 1 || n > MAX_AUDIT_PAGE) throw new UserError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_AUDIT_PAGE}`, { limit: n });
            let cursor: number | undefined;
            if (before != null) {
              cursor = Number(before);
              if (!/^\d{1,15}$/.test(String(before))) throw new UserError('BAD_USER_INPUT', '`before` must be the id of an audit entry');
            }
            return audit.list(ctx.strata.principal.tenantId, { limit: n, before: cursor, kind: kind ?? undefined });
          },
        }),
      );
    },
  };
}
