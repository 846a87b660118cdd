import { createHash } from 'node:crypto';

/** JSON with object keys sorted: equal queries give equal strings whatever the key order. */
const memo = new WeakMap<object, string>();

/** Queries are immutable once normalized, so their canonical text is computed once. */
export function canonicalJson(value: unknown): string {
  if (value && typeof value === 'object') {
    let text = memo.get(value);
    if (text === undefined) memo.set(value, (text = stringify(value)));
    return text;
  }
  return stringify(value);
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}
