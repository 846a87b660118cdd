/** Engine rows -> typed rows keyed by member, plus Cube-style annotations. */
import type { CompiledColumn } from '../compiler/compiled.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import type { Annotation, CellValue, MemberAnnotation } from './types.js';

const GRANULARITY_TITLES: Record<string, string> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  day: 'day',
  week: 'week',
  month: 'month',
  quarter: 'quarter',
  year: 'year',
};

/** "2024-01-05", "2024-01-05 10:00:00", "2024-01-05 10:00:00.123" -> "2024-01-05T10:00:00.000". */
export function toLocalDateTime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?)?/.exec(s);
  if (!m) return s;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${m[1]}T${m[2] ?? '00:00:00'}.${ms}`;
}

export function toCell(type: CompiledColumn['type'], v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'number': {
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(n) ? n : null; // inf/nan from a zero denominator reads as "no value"
    }
    case 'boolean':
      return v === true || v === 1 || v === '1' || v === 'true';
    case 'time':
      return toLocalDateTime(v);
    default:
      return String(v);
  }
}

export function shapeRows(columns: readonly CompiledColumn[], rows: readonly Record<string, unknown>[]): Record<string, CellValue>[] {
  return rows.map((r) => {
    const out: Record<string, CellValue> = {};
    for (const c of columns) out[c.key] = toCell(c.type, r[c.alias]);
    return out;
  });
}

export function annotate(model: Model, query: NormalizedQuery): Annotation {
  const one = (path: string, granularity?: string): MemberAnnotation => {
    const r = resolveMember(model, path);
    const m = r.member;
    const vm = r.view?.viewMember;
    const type: MemberAnnotation['type'] =
      m.kind === 'segment' ? 'boolean' : m.kind === 'measure' ? (m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? m.type : 'number') : m.type;
    return {
      title: vm?.title ?? m.title,
      shortTitle: m.shortTitle,
      type,
      format: m.kind === 'segment' ? undefined : m.format,
      description: vm?.description ?? m.description,
      meta: Object.keys(m.meta).length ? m.meta : undefined,
      granularity: granularity ? { name: granularity as never, title: GRANULARITY_TITLES[granularity] } : undefined,
    };
  };
  const measures: Record<string, MemberAnnotation> = {};
  const dimensions: Record<string, MemberAnnotation> = {};
  const segments: Record<string, MemberAnnotation> = {};
  const timeDimensions: Record<string, MemberAnnotation> = {};
  for (const p of query.measures) measures[p] = one(p);
  for (const p of query.dimensions) dimensions[p] = one(p);
  for (const p of query.segments) segments[p] = one(p);
  for (const td of query.timeDimensions) {
    if (!td.granularity) continue;
    timeDimensions[`${td.dimension}.${td.granularity}`] = one(td.dimension, td.granularity);
    timeDimensions[td.dimension] = one(td.dimension);
  }
  return { measures, dimensions, segments, timeDimensions };
}
