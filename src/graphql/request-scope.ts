/**
 * Runs each GraphQL operation inside its request's scope (edge/request-scope.ts), so the audited
 * repositories (audit/changes.ts) know who changes what, from where, under which request id.
 */
import type { Plugin } from 'graphql-yoga';
import { runInRequest } from '../edge/request-scope.js';
import type { ContextOf } from './plugins.js';

export function useRequestScope(contextOf: ContextOf): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      const ctx = request ? contextOf(request) : undefined;
      if (ctx) setExecuteFn((a) => runInRequest(ctx, () => executeFn(a)));
    },
  };
}
