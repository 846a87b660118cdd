/**
 * What a rollup pre-aggregation stores and which of its cube's measures it can answer exactly.
 *
 * A rollup row holds, per tenant and per combination of its dimensions, segment flags and time
 * bucket, one value per *leaf* — a non-derived measure's aggregate with its filters applied:
 * sum / count / min / max as plain values (they combine again with sum / sum / min / max, NULLs
 * skipped as the engine does), count_distinct as a uniqExact state (merged exactly). Measures that
 * share a leaf (a rolling `cost_7d` and `cost`: same type, SQL and filters) share its column.
 * Number measures are served when every measure they reference is. Anything else is refused with
 * the reason validate-models shows.
 */
import type { Cube, Dimension, Measure, Model, PreAggregation } from '../../semantic/model.js';
import { measureLeaves, rollupRefusal } from '../../semantic/rollups.js';

/** How a leaf is stored and combined again. */
export type LeafKind = 'sum' | 'count' | 'min' | 'max' | 'uniqExact';

export interface RollupLeaf {
  readonly column: string;
  readonly kind: LeafKind;
  /** The first measure (in cube order) with this leaf's signature: its SQL and filters build the column. */
  readonly measure: Measure;
}

export interface RollupShape {
  readonly pre: PreAggregation;
  readonly cube: Cube;
  readonly dimensions: readonly { readonly column: string; readonly dimension: Dimension }[];
  readonly segments: readonly { readonly column: string; readonly name: string }[];
  readonly time?: { readonly column: string; readonly dimension: Dimension; readonly granularity: NonNullable<PreAggregation['granularity']> };
  readonly leaves: readonly RollupLeaf[];
  /** Every measure of the cube the rollup answers exactly (listed or not), by name. */
  readonly served: ReadonlySet<string>;
  /** Listed measures it cannot store, with the reason. */
  readonly refused: readonly { readonly measure: string; readonly reason: string }[];
}

const LEAF_OF: Partial<Record<Measure['type'], LeafKind>> = { sum: 'sum', count: 'count', min: 'min', max: 'max', count_distinct: 'uniqExact' };

/** Same aggregate over the same SQL with the same filters: one stored column. */
export function leafSignature(m: Measure): string {
  return [m.type, m.sql?.source ?? '', ...m.filters.map((f) => f.source)].join('\u0000');
}

/** Names the rollup's own columns use (and a dimension's column never may). */
const RESERVED = /^(tenant_id|_version|_deleted|[dtsm]_.*)$/;

/** The column a dimension reads when its SQL is exactly `{CUBE}.column` (no case), else undefined. */
export function plainColumn(d: Dimension, cube: string): string | undefined {
  const parts = d.sql?.parts;
  if (d.case || !parts || parts.length !== 2) return undefined;
  const [a, b] = parts;
  if (a.kind !== 'cube' || a.cube !== cube || b.kind !== 'text') return undefined;
  const m = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(b.text.trim());
  return m ? m[1] : undefined;
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

/** The rollup's columns and what it serves. Unknown names are skipped (the validation rule reports them). */
export function rollupShape(model: Model, pre: PreAggregation): RollupShape {
  const cube = model.cubes[pre.cube];
  const refused: { measure: string; reason: string }[] = [];
  const bySignature = new Map<string, RollupLeaf>();
  const addLeaf = (m: Measure) => {
    const sig = leafSignature(m);
    if (!bySignature.has(sig)) bySignature.set(sig, { column: `m_${safe(m.name)}`, kind: LEAF_OF[m.type]!, measure: m });
  };
  for (const name of pre.measures) {
    const m = cube?.measures[name];
    if (!m) continue;
    const why = rollupRefusal(model, cube, m);
    if (why) refused.push({ measure: name, reason: why });
    else for (const leaf of measureLeaves(model, m)) addLeaf(leaf);
  }
  const served = new Set<string>();
  for (const m of Object.values(cube?.measures ?? {})) {
    if (rollupRefusal(model, cube, m)) continue;
    if (measureLeaves(model, m).every((l) => bySignature.has(leafSignature(l)))) served.add(m.name);
  }
  // A dimension that is one of the cube's columns keeps that column's name, so the cube's join
  // conditions ({CUBE}.campaign_id = {campaigns}.campaign_id) read the rollup table as they read the cube's.
  const dimensions = pre.dimensions.flatMap((d) => {
    const dim = cube?.dimensions[d];
    if (!dim) return [];
    const column = plainColumn(dim, cube.name);
    return [{ column: column && !RESERVED.test(column) ? column : `d_${safe(d)}`, dimension: dim }];
  });
  const segments = pre.segments.flatMap((s) => (cube?.segments[s] ? [{ column: `s_${safe(s)}`, name: s }] : []));
  const td = pre.timeDimension ? cube?.dimensions[pre.timeDimension] : undefined;
  return {
    pre,
    cube,
    dimensions,
    segments,
    ...(td && pre.granularity ? { time: { column: `t_${safe(td.name)}`, dimension: td, granularity: pre.granularity } } : {}),
    leaves: [...bySignature.values()],
    served,
    refused,
  };
}
