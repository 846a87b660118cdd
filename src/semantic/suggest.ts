import { distance } from 'fastest-levenshtein';

/** The closest candidate within a sensible edit distance, for "did you mean" messages. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const budget = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= budget ? best : undefined;
}
