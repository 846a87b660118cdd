/**
 * Engine time per request (summed over its statements), for doors that report where a request's
 * time went (GraphQL's Server-Timing header). Cache hits add nothing.
 */
import { requestCache } from './request-cache.js';
import type { RequestContext } from './types.js';

const engineClock = requestCache((): { ms: number } => ({ ms: 0 }));

export function addEngineTime(ctx: RequestContext, ms: number): void {
  engineClock(ctx).ms += ms;
}

/** Milliseconds the engine spent on this request's statements, 0 when it ran none. */
export function engineTime(ctx: RequestContext): number {
  return engineClock(ctx).ms;
}
