/**
 * Engine time per request (summed over its statements), for doors that report where a request's
 * time went (GraphQL's Server-Timing header). Cache hits add nothing.
 */
import type { RequestContext } from './types.js';

const ENGINE_MS = 'query-service:engine-ms';

export function addEngineTime(ctx: RequestContext, ms: number): void {
  ctx.memo.set(ENGINE_MS, ((ctx.memo.get(ENGINE_MS) as number | undefined) ?? 0) + ms);
}

/** Milliseconds the engine spent on this request's statements, 0 when it ran none. */
export function engineTime(ctx: RequestContext): number {
  return (ctx.memo.get(ENGINE_MS) as number | undefined) ?? 0;
}
