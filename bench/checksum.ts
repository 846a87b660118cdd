/**
 * A door-independent fingerprint of a result: the row count and the sum of every numeric cell.
 * Doors format numbers differently (JSON numbers, Cube's numeric strings, Postgres text), so
 * cells are read with Number(); dates and labels are not numbers and drop out.
 */
export function checksum(rows: readonly Record<string, unknown>[] | readonly unknown[][]): number {
  let sum = 0;
  for (const row of rows) {
    for (const v of Array.isArray(row) ? row : Object.values(row as Record<string, unknown>)) {
      if (v === null || v === undefined || v === '' || typeof v === 'boolean') continue;
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?[\d.]+(e[-+]?\d+)?$/i.test(v) ? Number(v) : NaN;
      if (Number.isFinite(n)) sum += n;
    }
  }
  return sum;
}

/** Same result up to float formatting (Postgres numeric text, JSON doubles). */
export function sameChecksum(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}
