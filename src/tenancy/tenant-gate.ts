/**
 * The one place every door's credentials meet the tenant registry: an Authenticator that admits
 * the principal's tenant after the credential is verified, then resolves its roles through the
 * tenant's own definitions (roles.ts). services.ts hands this wrapper to every door (GraphQL over
 * HTTP and WebSocket, REST, SQL proxy, ingestion, and the doors to come), so none of them checks a
 * tenant by itself. A refusal that names a served tenant (TENANT_SUSPENDED; a revoked or expired API
 * key of a known tenant) is told to `onRefusal` for the tenant's audit trail.
 */
import type { AuthOrigin, Authenticator } from '../auth/authenticator.js';
import type { TenantDirectory } from './directory.js';
import type { RoleResolver } from './roles.js';

export interface TenantGateOptions {
  readonly roles?: Pick<RoleResolver, 'resolve'>;
  /** A refusal attributable to a tenant (the error carries `tenantId`, never from an unverified claim). */
  readonly onRefusal?: (tenantId: string, error: unknown, origin?: AuthOrigin) => void;
}

export function withTenantCheck(inner: Authenticator, directory: Pick<TenantDirectory, 'admit'>, options: TenantGateOptions = {}): Authenticator {
  return {
    async authenticate(credential, origin) {
      let tenantId: string | undefined;
      try {
        const principal = await inner.authenticate(credential, origin);
        tenantId = principal.tenantId;
        await directory.admit(principal.tenantId);
        return options.roles ? await options.roles.resolve(principal) : principal;
      } catch (e) {
        const code = (e as { code?: string }).code;
        // A suspended tenant's verified credential; a refused key whose tenant the store knows.
        const attributed = code === 'TENANT_SUSPENDED' ? tenantId : code === 'UNAUTHENTICATED' ? (e as { tenantId?: string }).tenantId : undefined;
        if (attributed) options.onRefusal?.(attributed, e, origin);
        throw e;
      }
    },
  };
}
