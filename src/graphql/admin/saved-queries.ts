/**
 * Saved semantic queries of the caller's tenant (read/run: metrics:read, write: dashboards:write).
 * A query is checked when saved (members, scopes, paging) and runs through the query service,
 * so `runSavedQuery` answers exactly like the generic `query` field (comparison included).
 * Who may see, edit, share or delete is decided by the store (store/access.ts) for the caller's Actor.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { QueryService } from '../../query/types.js';
import type { SavedQuery, SavedQueryRepo } from '../../store/saved-queries.js';
import { DATA_FIELD_COST } from '../cube-fields.js';
import type { SchemaExtension } from '../build-schema.js';
import type { Visibility } from '../../store/access.js';
import { withComparison } from '../generic-query.js';
import { actorOf, dateTimeScalar, perBuilder, type ShareInput, sharingTypes, validateQuery } from './types.js';

const READ = { authScopes: { allOf: [SCOPES.METRICS_READ] }, extensions: { requiresScopes: [SCOPES.METRICS_READ] } } as const;
const WRITE = { authScopes: { allOf: [SCOPES.DASHBOARDS_WRITE] }, extensions: { requiresScopes: [SCOPES.DASHBOARDS_WRITE] } } as const;

export interface SavedQueryDeps {
  readonly savedQueries: SavedQueryRepo;
  readonly query: QueryService;
}

const savedQueryType = perBuilder((builder, repo: SavedQueryRepo) => {
  const DateTime = dateTimeScalar(builder);
  const sharing = sharingTypes(builder);
  return builder.objectRef<SavedQuery>('SavedQuery').implement({
    description: 'A named semantic query of your tenant.',
    fields: (t) => ({
      id: t.exposeID('id'),
      owner: t.exposeString('owner', { description: 'Subject of the token that saved it.' }),
      visibility: t.field({ type: sharing.visibility, resolve: (s) => s.visibility }),
      canEdit: t.exposeBoolean('canEdit'),
      canManage: t.exposeBoolean('canManage', { description: 'You may share or delete it (owner or tenant admin).' }),
      shares: t.field({ type: [sharing.share], resolve: (s, _a, ctx) => repo.shares(actorOf(ctx.strata.principal), s.id) }),
      name: t.exposeString('name', { description: 'Unique within your tenant.' }),
      query: t.field({ type: 'JSON', description: 'The semantic query (Cube format), as saved.', resolve: (s) => s.query }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (s) => s.createdAt }),
      updatedAt: t.field({ type: DateTime, resolve: (s) => s.updatedAt }),
    }),
  });
});

export function savedQueryExtension(deps: SavedQueryDeps): SchemaExtension {
  const { savedQueries, query } = deps;
  const notFound = (id: string) => new UserError('NOT_FOUND', `saved query "${id}" not found`, { id });
  return {
    queries: (builder, shared) => {
      const savedQuery = savedQueryType(builder, savedQueries);
      builder.queryField('savedQueries', (t) =>
        t.field({
          type: [savedQuery],
          nullable: true,
          description: 'Saved queries of your tenant, by name.',
          ...READ,
          resolve: (_root, _args, ctx) => savedQueries.list(actorOf(ctx.strata.principal)),
        }),
      );
      builder.queryField('savedQuery', (t) =>
        t.field({
          type: savedQuery,
          nullable: true,
          description: 'One saved query; null when your tenant has no such query.',
          ...READ,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_root, { id }, ctx) => savedQueries.get(actorOf(ctx.strata.principal), String(id)),
        }),
      );
      builder.queryField('runSavedQuery', (t) =>
        t.field({
          type: shared.queryResult,
          nullable: true,
          description: 'Run a saved query now for your tenant; the same answer as `query` with its JSON. NOT_FOUND when your tenant has no such query.',
          authScopes: READ.authScopes,
          extensions: { ...READ.extensions, cost: DATA_FIELD_COST },
          args: {
            id: t.arg.id({ required: true }),
            compareTo: t.arg({ type: shared.comparisonInput, description: 'Compare with another period (replaces a saved comparison).' }),
          },
          resolve: async (_root, { id, compareTo }, ctx) => {
            const saved = await savedQueries.get(actorOf(ctx.strata.principal), String(id));
            if (!saved) throw notFound(String(id));
            const { compareTo: _own, ...rest } = saved.query;
            return query.load(ctx.strata, compareTo ? withComparison(rest, compareTo) : saved.query);
          },
        }),
      );
    },

    mutations: (builder) => {
      const savedQuery = savedQueryType(builder, savedQueries);
      const sharing = sharingTypes(builder);
      const createInput = builder.inputType('CreateSavedQueryInput', {
        fields: (t) => ({
          name: t.string({ required: true, description: 'Unique within your tenant (CONFLICT otherwise).' }),
          query: t.field({ type: 'JSON', required: true, description: 'A semantic query in Cube format (compareTo included); checked now.' }),
          visibility: t.field({ type: sharing.visibility, description: 'Default TENANT.' }),
          shares: t.field({ type: [sharing.shareInput] }),
        }),
      });
      const updateInput = builder.inputType('UpdateSavedQueryInput', {
        description: 'Omitted fields keep their current value.',
        fields: (t) => ({
          name: t.string(),
          query: t.field({ type: 'JSON', description: 'A semantic query in Cube format; checked now.' }),
        }),
      });

      builder.mutationField('createSavedQuery', (t) =>
        t.field({
          type: savedQuery,
          nullable: true,
          description: 'Save a query under a name. A query that would not run (unknown member, missing scope) is refused.',
          ...WRITE,
          args: { input: t.arg({ type: createInput, required: true }) },
          resolve: (_root, { input }, ctx) => {
            const p = ctx.strata.principal;
            const q = validateQuery(query, p, input.query, ctx.limits.maxRowLimit, `saved query "${input.name}"`);
            return savedQueries.create(actorOf(p), {
              name: input.name,
              query: q,
              ...(input.visibility ? { visibility: input.visibility as Visibility } : {}),
              ...(input.shares ? { shares: input.shares as ShareInput[] } : {}),
            });
          },
        }),
      );
      builder.mutationField('updateSavedQuery', (t) =>
        t.field({
          type: savedQuery,
          nullable: true,
          description: 'Rename a saved query or replace its query. NOT_FOUND when your tenant has no such query.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: updateInput, required: true }) },
          resolve: (_root, { id, input }, ctx) => {
            const p = ctx.strata.principal;
            const q = input.query == null ? undefined : validateQuery(query, p, input.query, ctx.limits.maxRowLimit, `saved query "${String(id)}"`);
            return savedQueries.update(actorOf(p), String(id), { ...(input.name != null ? { name: input.name } : {}), ...(q ? { query: q } : {}) });
          },
        }),
      );
      builder.mutationField('deleteSavedQuery', (t) =>
        t.boolean({
          nullable: true,
          description: 'Delete a saved query (owner or tenant admin). false when you cannot see such a query.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_root, { id }, ctx) => savedQueries.delete(actorOf(ctx.strata.principal), String(id)),
        }),
      );
      builder.mutationField('shareSavedQuery', (t) =>
        t.field({
          type: savedQuery,
          nullable: true,
          description: 'Change who sees and edits a saved query (owner or tenant admin). `shares` replaces the current list.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: sharing.shareChangeInput, required: true }) },
          resolve: (_root, { id, input }, ctx) =>
            savedQueries.share(actorOf(ctx.strata.principal), String(id), {
              ...(input.visibility ? { visibility: input.visibility as Visibility } : {}),
              ...(input.shares ? { shares: input.shares as ShareInput[] } : {}),
            }),
        }),
      );
    },
  };
}
