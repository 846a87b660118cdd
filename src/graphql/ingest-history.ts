/**
 * Batch history and the quarantine through GraphQL (scope ingest:write, the caller's tenant only):
 * `ingestBatches`, `ingestQuarantine`, and the mutations `replayQuarantined` (corrected rows go in
 * as a new, retry-safe batch) and `discardQuarantined`. The same core as POST /v1/ingest.
 */
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { DeletableDimension, DeletionReport } from '../ingest/delete-rows.js';
import type { IngestService, ReplayReport } from '../ingest/ingest-service.js';
import type { BatchSummary, QuarantineEntry } from '../ingest/ledger.js';
import type { SchemaExtension } from './build-schema.js';
import type { GraphQLContext } from './context.js';

export const MAX_HISTORY_PAGE = 1_000;

/** ingest/delete-rows.ts DELETABLE_DIMENSIONS (a door imports ingest/ types only; the service re-checks). */
const DIMENSIONS = ['client', 'campaign', 'ad_account'] as const satisfies readonly DeletableDimension[];

const pageOf = (limit: number | null | undefined) => {
  const n = limit ?? 100;
  if (n < 1 || n > MAX_HISTORY_PAGE) throw new UserError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_HISTORY_PAGE}`, { limit: n });
  return n;
};

export function ingestHistory(ingest: IngestService): SchemaExtension {
  const auth = { authScopes: { allOf: [SCOPES.INGEST_WRITE] }, extensions: { requiresScopes: [SCOPES.INGEST_WRITE] } };
  return {
    queries: (builder) => {
      const batch = builder.objectRef<BatchSummary>('IngestBatch').implement({
        description: 'One ingestion batch of your tenant.',
        fields: (t) => ({
          batchId: t.exposeString('batchId'),
          table: t.exposeString('table'),
          status: t.exposeString('status', { description: 'done, or incomplete: claimed but never finished (retry it with the same id and body).' }),
          inserted: t.exposeInt('inserted', { description: 'Rows accepted (a re-sent natural key replaced its earlier row).' }),
          quarantined: t.exposeInt('quarantined'),
          durationMs: t.exposeInt('durationMs'),
          source: t.exposeString('source', { description: 'replay for re-submitted quarantined rows, else empty.' }),
          replayOf: t.exposeString('replayOf', { description: 'The batch whose quarantined rows this batch re-submitted.' }),
          at: t.exposeString('at', { description: 'When the batch started (ISO 8601, UTC).' }),
        }),
      });
      const entry = builder.objectRef<QuarantineEntry>('QuarantinedRow').implement({
        description: 'A row that failed a check, with the reason, as it was sent.',
        fields: (t) => ({
          batchId: t.exposeString('batchId'),
          table: t.exposeString('table'),
          line: t.exposeInt('line', { description: '1-based position of the row in its batch.' }),
          reason: t.exposeString('reason'),
          rule: t.exposeString('rule', { nullable: true, description: 'The data-quality rule of the model the row broke (meta.strata.quality), if any.' }),
          raw: t.exposeString('raw', { description: 'The row as sent (first 16 KiB).' }),
          receivedAt: t.exposeString('receivedAt'),
          status: t.exposeString('status', { description: 'pending, replayed or discarded.' }),
        }),
      });
      builder.queryField('ingestBatches', (t) =>
        t.field({
          type: [batch],
          description: 'Your ingestion batches, newest first.',
          ...auth,
          args: { limit: t.arg.int({ defaultValue: 100, description: `1-${MAX_HISTORY_PAGE}.` }) },
          resolve: (_root, args, ctx: GraphQLContext) => ingest.batches(ctx.strata.principal, pageOf(args.limit)),
        }),
      );
      builder.queryField('ingestQuarantine', (t) =>
        t.field({
          type: [entry],
          description: 'Quarantined rows of your tenant with their reasons, newest first; pending ones unless includeResolved.',
          ...auth,
          args: {
            batchId: t.arg.string(),
            limit: t.arg.int({ defaultValue: 100, description: `1-${MAX_HISTORY_PAGE}.` }),
            includeResolved: t.arg.boolean({ defaultValue: false }),
          },
          resolve: (_root, args, ctx: GraphQLContext) =>
            ingest.quarantine(ctx.strata.principal, {
              ...(args.batchId != null ? { batchId: args.batchId } : {}),
              limit: pageOf(args.limit),
              includeResolved: args.includeResolved ?? false,
            }),
        }),
      );
    },
    mutations: (builder) => {
      const fix = builder.inputType('QuarantineFix', {
        fields: (t) => ({
          line: t.int({ required: true, description: 'The quarantined line of the batch.' }),
          row: t.field({ type: 'JSON', required: true, description: 'The corrected row (no tenant_id).' }),
        }),
      });
      const rejected = builder.objectRef<{ line: number; reason: string }>('ReplayRejectedRow').implement({
        fields: (t) => ({
          line: t.exposeInt('line', { description: 'Position in the fixes list (1-based).' }),
          reason: t.exposeString('reason'),
        }),
      });
      const replay = builder.objectRef<ReplayReport>('ReplayReport').implement({
        description: 'Outcome of re-submitting quarantined rows.',
        fields: (t) => ({
          batchId: t.exposeString('batchId', { description: 'The replay batch (derived from the fixes: sending them again inserts nothing twice).' }),
          inserted: t.exposeInt('inserted'),
          replayedLines: t.exposeIntList('replayedLines', { description: 'Original lines now resolved as replayed.' }),
          quarantined: t.field({ type: [rejected], resolve: (r) => [...r.quarantined] }),
          duplicate: t.exposeBoolean('duplicate'),
        }),
      });
      builder.mutationField('replayQuarantined', (t) =>
        t.field({
          type: replay,
          description: 'Fix quarantined rows of a batch and ingest them; rows that still fail stay pending.',
          ...auth,
          args: { batchId: t.arg.string({ required: true }), fixes: t.arg({ type: [fix], required: true }) },
          resolve: (_root, args, ctx: GraphQLContext) =>
            ingest.replay(
              ctx.strata.principal,
              args.batchId,
              args.fixes.map((f) => ({ line: f.line, row: f.row })),
            ),
        }),
      );
      const dimension = builder.enumType('DeletableDimension', {
        description: 'What rows can be deleted by: client (client_id), campaign (campaign_id), ad_account (account_id), in every table holding that column.',
        values: DIMENSIONS,
      });
      const deletedTable = builder.objectRef<DeletionReport['tables'][number]>('DeletedTableRows').implement({
        fields: (t) => ({ table: t.exposeString('table'), deleted: t.exposeInt('deleted') }),
      });
      const deletion = builder.objectRef<DeletionReport>('DeletionReport').implement({
        description: 'Rows deleted by a dimension value, per table.',
        fields: (t) => ({
          dimension: t.exposeString('dimension'),
          value: t.exposeString('value'),
          deleted: t.exposeInt('deleted'),
          tables: t.field({ type: [deletedTable], resolve: (r) => [...r.tables] }),
        }),
      });
      builder.mutationField('deleteTenantRows', (t) =>
        t.field({
          type: deletion,
          description:
            "Delete your tenant's rows holding a client, campaign or ad-account value from every table that holds it (right to be forgotten, mistaken loads). Audited; caches and live subscriptions follow at once.",
          ...auth,
          args: { dimension: t.arg({ type: dimension, required: true }), value: t.arg.string({ required: true }) },
          resolve: (_root, args, ctx: GraphQLContext) => ingest.deleteRows(ctx.strata.principal, args.dimension, args.value),
        }),
      );
      builder.mutationField('discardQuarantined', (t) =>
        t.field({
          type: 'Int',
          description: 'Mark quarantined rows of a batch as discarded; returns how many.',
          ...auth,
          args: { batchId: t.arg.string({ required: true }), lines: t.arg.intList({ required: true }) },
          resolve: (_root, args, ctx: GraphQLContext) => ingest.discard(ctx.strata.principal, args.batchId, args.lines),
        }),
      );
    },
  };
}
