/**
 * A result as an ECharts option: pure, so the mapping is tested without a browser. The x axis is the
 * time dimension when there is one (else the first dimension); with a time dimension and another
 * dimension, one series per value of that dimension for the first measure; otherwise one series per
 * measure. A comparison adds the previous period's values as dashed/lighter series.
 */
import { formatValue } from './format.js';
import type { Annotation, QueryResult } from './types.js';

export type ChartKind = 'table' | 'line' | 'bar' | 'area' | 'pie' | 'kpi';
export const CHART_KINDS: readonly ChartKind[] = ['table', 'bar', 'line', 'area', 'pie', 'kpi'];

const MAX_SERIES = 12;

export function columns(result: QueryResult): { dims: Annotation[]; measures: Annotation[] } {
  const all = result.annotation.filter((a) => a.kind === 'dimension' || a.kind === 'timeDimension');
  // A time dimension at a granularity comes as "cube.date.month" and, like Cube, as its bare twin
  // "cube.date" with the same values: show it once.
  const dims = all.filter((a) => !(a.kind === 'timeDimension' && !a.granularity && all.some((b) => b.granularity && b.member.startsWith(`${a.member}.`))));
  return { dims, measures: result.annotation.filter((a) => a.kind === 'measure') };
}

const label = (value: unknown, a: Annotation): string => (value === null || value === undefined ? '∅' : formatValue(value, a.format, a.type));

/** The chart kind a result suits when the person has not chosen one. */
export function defaultChart(result: QueryResult): ChartKind {
  const { dims, measures } = columns(result);
  if (measures.length === 0) return 'table';
  if (dims.length === 0) return 'kpi';
  if (dims.some((d) => d.kind === 'timeDimension')) return 'line';
  return 'bar';
}

export function chartOption(result: QueryResult, kind: Exclude<ChartKind, 'table' | 'kpi'>, title: string): Record<string, unknown> {
  const { dims, measures } = columns(result);
  const axis = dims.find((d) => d.kind === 'timeDimension') ?? dims[0];
  const split = dims.find((d) => d !== axis);
  const rows = result.data;
  const base = {
    aria: { enabled: true, label: { description: title } },
    animation: false,
    tooltip: { trigger: kind === 'pie' ? 'item' : 'axis' },
    legend: { type: 'scroll', bottom: 0 },
  };
  if (!axis || measures.length === 0) return { ...base, series: [] };
  if (kind === 'pie') {
    const m = measures[0]!;
    return {
      ...base,
      series: [
        {
          type: 'pie',
          name: m.shortTitle,
          radius: ['35%', '65%'],
          data: rows.map((r) => ({ name: label(r[axis.member], axis), value: Number(r[m.member] ?? 0) })),
          label: { formatter: '{b}: {d}%' },
        },
      ],
    };
  }
  const categories = [...new Set(rows.map((r) => label(r[axis.member], axis)))];
  const at = new Map(categories.map((c, i) => [c, i] as const));
  const type = kind === 'area' ? 'line' : kind;
  const series: Record<string, unknown>[] = [];
  const pushSeries = (name: string, m: Annotation, pick: (r: Record<string, unknown>) => boolean, dashed = false): void => {
    const values: (number | null)[] = categories.map(() => null);
    for (const r of rows) if (pick(r)) values[at.get(label(r[axis.member], axis))!] = r[m.member] === null ? null : Number(r[m.member]);
    series.push({
      type,
      name,
      data: values,
      ...(kind === 'area' ? { areaStyle: { opacity: 0.25 }, stack: split ? 'total' : undefined } : {}),
      ...(dashed ? { lineStyle: { type: 'dashed' }, itemStyle: { opacity: 0.45 } } : {}),
    });
  };
  if (split) {
    const values = [...new Set(rows.map((r) => r[split.member]))].slice(0, MAX_SERIES);
    for (const v of values) pushSeries(label(v, split), measures[0]!, (r) => r[split.member] === v);
  } else {
    for (const m of measures) pushSeries(m.shortTitle, m, () => true);
    const cmp = result.comparison;
    if (cmp) {
      for (const m of measures) {
        const values: (number | null)[] = categories.map(() => null);
        for (const row of cmp.rows) {
          const i = at.get(label(row.dimensions[axis.member], axis));
          const mc = row.measures.find((x) => x.member === m.member);
          if (i !== undefined && mc) values[i] = mc.previous;
        }
        series.push({ type, name: `${m.shortTitle} (previous)`, data: values, lineStyle: { type: 'dashed' }, itemStyle: { opacity: 0.45 } });
      }
    }
  }
  // Measures of different formats (spend and ROAS) get their own axis, or the smaller one is flat.
  const formats = [...new Set(measures.map((m) => m.format ?? 'number'))].slice(0, 2);
  const axisOf = (m: Annotation): number => Math.max(0, formats.indexOf(m.format ?? 'number'));
  for (const s of series) {
    const m = measures.find((x) => s.name === x.shortTitle || s.name === `${x.shortTitle} (previous)`);
    if (!split && m) s.yAxisIndex = axisOf(m);
  }
  return {
    ...base,
    grid: { left: 72, right: formats.length > 1 ? 72 : 24, top: 24, bottom: 56 },
    xAxis: { type: 'category', data: categories, axisLabel: { hideOverlap: true } },
    yAxis: (split ? formats.slice(0, 1) : formats).map((f, i) => ({
      type: 'value',
      position: i === 0 ? 'left' : 'right',
      splitLine: { show: i === 0 },
      axisLabel: { formatter: (v: number) => formatValue(v, f === 'percent' ? 'percent' : null) },
    })),
    series,
  };
}
