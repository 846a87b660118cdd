/**
 * The request a piece of work belongs to, across awaits (AsyncLocalStorage): a door runs its
 * request's work inside `runInRequest(ctx, fn)`, and code that is handed no context (the audited
 * repositories of audit/changes.ts) asks `currentRequest()` who is changing what, from where.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from '../query/types.js';

const scope = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return scope.run(ctx, fn);
}

export function currentRequest(): RequestContext | undefined {
  return scope.getStore();
}
