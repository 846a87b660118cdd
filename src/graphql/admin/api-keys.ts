/**
 * API keys for the caller's tenant (scope keys:admin): create (the secret is in the answer once,
 * never readable again), list, revoke. A key never gets a scope its creator does not hold.
 */
import type { ApiKeyInfo } from '../../auth/authenticator.js';
import { SCOPES } from '../../auth/principal.js';
import { ForbiddenError, UserError } from '../../errors.js';
import type { ApiKeyRepo } from '../../store/api-keys.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder } from './types.js';

const GUARD = { authScopes: { allOf: [SCOPES.KEYS_ADMIN] }, extensions: { requiresScopes: [SCOPES.KEYS_ADMIN] } } as const;

interface CreateApiKeyInput {
  name: string;
  scopes: string[];
  expiresAt?: Date | null;
}

export function apiKeyExtension(keys: ApiKeyRepo): SchemaExtension {
  return {
    queries: (builder) => {
      const apiKey = apiKeyType(builder);

      builder.queryField('apiKeys', (t) =>
        t.field({
          type: [apiKey],
          nullable: true,
          description: 'API keys of your tenant, revoked ones included (oldest first).',
          ...GUARD,
          resolve: (_root, _args, ctx) => keys.list(ctx.strata.principal.tenantId),
        }),
      );
    },

    mutations: (builder) => {
      const DateTime = dateTimeScalar(builder);
      const apiKey = apiKeyType(builder);
      const input = builder.inputRef<CreateApiKeyInput>('CreateApiKeyInput').implement({
        fields: (t) => ({
          name: t.string({ required: true, description: 'What the key is for ("looker export").' }),
          scopes: t.stringList({ required: true, description: 'Scopes of the key; each must be one you hold ("metrics:read").' }),
          expiresAt: t.field({ type: DateTime, description: 'When the key stops working; never when omitted.' }),
        }),
      });
      const payload = builder.objectRef<{ key: ApiKeyInfo; secret: string }>('CreateApiKeyPayload').implement({
        fields: (t) => ({
          apiKey: t.field({ type: apiKey, resolve: (p) => p.key }),
          secret: t.exposeString('secret', { description: 'The full key. Shown this once: store it now, it cannot be read again.' }),
        }),
      });

      builder.mutationField('createApiKey', (t) =>
        t.field({
          type: payload,
          nullable: true,
          description: 'Create an API key for your tenant with some of your own scopes. Use it as "Authorization: Bearer sk_live_...".',
          ...GUARD,
          args: { input: t.arg({ type: input, required: true }) },
          resolve: async (_root, { input }, ctx) => {
            const principal = ctx.strata.principal;
            const scopes = [...new Set(input.scopes)];
            if (scopes.length === 0) throw new UserError('BAD_USER_INPUT', 'an API key needs at least one scope (e.g. "metrics:read")');
            const beyond = scopes.filter((s) => !principal.scopes.has(s));
            if (beyond.length > 0) {
              throw new ForbiddenError(`you cannot grant scope ${beyond.map((s) => `"${s}"`).join(', ')}: a key may only carry scopes you hold`, {
                scopes: beyond,
              });
            }
            return keys.create(principal.tenantId, { name: input.name, scopes, createdBy: principal.subject, expiresAt: input.expiresAt ?? null });
          },
        }),
      );

      builder.mutationField('revokeApiKey', (t) =>
        t.boolean({
          nullable: true,
          description: 'Revoke a key of your tenant; it is refused from the next request on. false when your tenant has no such active key.',
          ...GUARD,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_root, { id }, ctx) => keys.revoke(ctx.strata.principal.tenantId, String(id)),
        }),
      );
    },
  };
}

const apiKeyType = perBuilder((builder) => {
  const DateTime = dateTimeScalar(builder);
  return builder.objectRef<ApiKeyInfo>('ApiKey').implement({
    description: 'An API key of your tenant. The secret is shown once, when the key is created; only its prefix is kept visible.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      prefix: t.exposeString('prefix', { description: 'The visible start of the secret ("sk_live_ab12cd"), to recognise a key.' }),
      scopes: t.exposeStringList('scopes', { description: "What the key may do (a subset of its creator's scopes)." }),
      createdBy: t.exposeString('createdBy', { description: 'Subject of the credential that created the key.' }),
      createdAt: t.field({ type: DateTime, resolve: (k) => k.createdAt }),
      expiresAt: t.field({ type: DateTime, nullable: true, resolve: (k) => k.expiresAt }),
      lastUsedAt: t.field({ type: DateTime, nullable: true, description: 'Approximate (recorded at most once a minute).', resolve: (k) => k.lastUsedAt }),
      revokedAt: t.field({ type: DateTime, nullable: true, resolve: (k) => k.revokedAt }),
    }),
  });
});
