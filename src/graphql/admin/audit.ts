/** The audit trail of data reads of the caller's tenant (scope audit:read), newest first. */
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
        description: 'One data read (any door: graphql, rest, sqlproxy, live, cli).',
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
        }),
      });

      builder.queryField('auditLog', (t) =>
        t.field({
          type: [entry],
          nullable: true,
          description: 'Data reads of your tenant, newest first. Entries are written in the background and appear within about a second.',
          authScopes: { allOf: [SCOPES.AUDIT_READ] },
          extensions: { requiresScopes: [SCOPES.AUDIT_READ] },
          args: {
            limit: t.arg.int({ defaultValue: 50, description: `Entries per page (1-${MAX_AUDIT_PAGE}).` }),
            before: t.arg.id({ description: 'Only entries older than this id (the last id of the previous page).' }),
          },
          resolve: (_root, { limit, before }, ctx) => {
            const n = limit ?? 50;
            if (n < 1 || n > MAX_AUDIT_PAGE) throw new UserError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_AUDIT_PAGE}`, { limit: n });
            let cursor: number | undefined;
            if (before != null) {
              cursor = Number(before);
              if (!/^\d{1,15}$/.test(String(before))) throw new UserError('BAD_USER_INPUT', '`before` must be the id of an audit entry');
            }
            return audit.list(ctx.strata.principal.tenantId, { limit: n, before: cursor });
          },
        }),
      );
    },
  };
}
