/**
 * Typed per-request state (Pothos' context-cache pattern): `requestCache(init)` returns a getter
 * whose value is made once per RequestContext and dropped with it. Replaces a string-keyed memo:
 * each owner keeps its own typed slot, nobody else can read or overwrite it.
 */
import type { RequestContext } from './types.js';

export function requestCache<T>(init: (ctx: RequestContext) => T): (ctx: RequestContext) => T {
  const slots = new WeakMap<RequestContext, T>();
  return (ctx) => {
    if (slots.has(ctx)) return slots.get(ctx) as T;
    const value = init(ctx);
    slots.set(ctx, value);
    return value;
  };
}
