/**
 * `mutation { ingest(table: "ad_performance", rows: [...], batchId: "b1") { inserted quarantined { line reason } } }`
 * for small batches, as a SchemaExtension for buildSchema(). Large batches use POST /v1/ingest/{table}.
 * The same core (ingest/ingest-service.ts) runs both, so the checks, quarantine and idempotency are identical.
 */
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { GraphQLContext } from './context.js';
import type { SchemaExtension } from './build-schema.js';
import type { IngestReport, IngestService } from '../ingest/ingest-service.js';

export const MAX_GRAPHQL_INGEST_ROWS = 10_000;

export function ingestMutation(ingest: IngestService): SchemaExtension {
  return {
    mutations: (builder) => {
      const rejected = builder.objectRef<{ line: number; reason: string }>('IngestRejectedRow').implement({
        description: 'A row that failed a check and went to the quarantine.',
        fields: (t) => ({
          line: t.exposeInt('line', { description: '1-based position of the row in the batch.' }),
          reason: t.exposeString('reason', { description: 'The first check the row failed.' }),
        }),
      });
      const report = builder.objectRef<IngestReport>('IngestReport').implement({
        description: 'Outcome of an ingestion batch.',
        fields: (t) => ({
          batchId: t.exposeString('batchId', { description: 'Send it again to retry safely: a known batch id inserts nothing twice.' }),
          table: t.exposeString('table'),
          inserted: t.exposeInt('inserted', { description: 'Rows inserted (by the first delivery of this batch id).' }),
          quarantined: t.field({ type: [rejected], description: 'Rejected rows (first 1000).', resolve: (r) => [...r.quarantined] }),
          quarantinedCount: t.exposeInt('quarantinedCount', { description: 'All rejected rows.' }),
          duplicate: t.exposeBoolean('duplicate', { description: 'True when this batch id had already been ingested.' }),
        }),
      });
      builder.mutationField('ingest', (t) =>
        t.field({
          type: report,
          description: `Ingest up to ${MAX_GRAPHQL_INGEST_ROWS} rows into a warehouse table for your tenant. Rows failing a data-quality check are quarantined and listed.`,
          authScopes: { allOf: [SCOPES.INGEST_WRITE] },
          extensions: { requiresScopes: [SCOPES.INGEST_WRITE] },
          args: {
            table: t.arg.string({ required: true, description: 'ad_performance, web_sessions, email_activity, conversions, campaigns or clients.' }),
            rows: t.arg({ type: ['JSON'], required: true, description: 'One JSON object per row; no tenant_id (it comes from your token).' }),
            batchId: t.arg.string({ description: 'Idempotency key: a retry with the same id inserts nothing twice.' }),
          },
          resolve: (_root, args, ctx: GraphQLContext) => {
            if (args.rows.length > MAX_GRAPHQL_INGEST_ROWS) {
              throw new UserError(
                'BAD_USER_INPUT',
                `at most ${MAX_GRAPHQL_INGEST_ROWS} rows per mutation; use POST /v1/ingest/${args.table} for larger batches`,
              );
            }
            return ingest.ingest(ctx.strata.principal, args.table, args.rows, args.batchId ?? undefined);
          },
        }),
      );
    },
  };
}
