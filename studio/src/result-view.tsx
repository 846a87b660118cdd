/** A query result as a table, a chart or KPI tiles; with a comparison, current vs previous per measure. */
import { useMemo } from 'preact/hooks';
import { Chart } from './chart.js';
import { type ChartKind, chartOption, columns } from './chart-options.js';
import { formatChange, formatValue } from './format.js';
import type { Annotation, MeasureComparison, QueryResult } from './types.js';

function cell(value: unknown, a: Annotation) {
  return (
    <td class={a.kind === 'measure' ? 'num' : undefined} data-member={a.member} data-raw={value === null || value === undefined ? '' : String(value)}>
      {formatValue(value, a.format, a.type)}
    </td>
  );
}

function changeClass(mc: MeasureComparison | undefined): string {
  if (!mc?.change) return 'change';
  return mc.change > 0 ? 'change up' : 'change down';
}

export function ResultTable({ result, caption }: { result: QueryResult; caption: string }) {
  const { dims, measures } = columns(result);
  const cmp = result.comparison;
  if (cmp) {
    return (
      <div class="table-wrap">
        <table class="result" aria-label={caption}>
          <caption>
            {caption}: {cmp.dateRange.map((d) => d.slice(0, 10)).join(' → ')} vs {cmp.compareDateRange.map((d) => d.slice(0, 10)).join(' → ')}
          </caption>
          <thead>
            <tr>
              {dims.map((d) => (
                <th scope="col" key={d.member}>
                  {d.shortTitle}
                </th>
              ))}
              {measures.map((m) => [
                <th scope="col" key={m.member}>
                  {m.shortTitle}
                </th>,
                <th scope="col" key={`${m.member}:p`}>
                  previous
                </th>,
                <th scope="col" key={`${m.member}:c`}>
                  change
                </th>,
              ])}
            </tr>
          </thead>
          <tbody>
            {cmp.rows.map((row, i) => (
              <tr key={i}>
                {dims.map((d) => cell(row.dimensions[d.member], d))}
                {measures.map((m) => {
                  const mc = row.measures.find((x) => x.member === m.member);
                  return [
                    cell(mc?.current, m),
                    <td key="p" class="num previous" data-member={`${m.member}:previous`} data-raw={mc?.previous ?? ''}>
                      {formatValue(mc?.previous, m.format, m.type)}
                    </td>,
                    <td key="c" class={`num ${changeClass(mc)}`} data-member={`${m.member}:change`} data-raw={mc?.percentChange ?? ''}>
                      {formatChange(mc?.percentChange)}
                    </td>,
                  ];
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <div class="table-wrap">
      <table class="result" aria-label={caption}>
        <thead>
          <tr>
            {[...dims, ...measures].map((a) => (
              <th scope="col" key={a.member}>
                {a.shortTitle}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.data.map((row, i) => (
            <tr key={i}>{[...dims, ...measures].map((a) => cell(row[a.member], a))}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One tile per measure: the total, and its change vs the comparison period when there is one. */
export function KpiTiles({ result }: { result: QueryResult }) {
  const { measures } = columns(result);
  const row = result.data[0] ?? {};
  const cmpRow = result.comparison?.rows[0];
  return (
    <div class="kpis">
      {measures.map((m) => {
        const mc = cmpRow?.measures.find((x) => x.member === m.member);
        return (
          <section class="kpi" key={m.member} aria-label={m.title} data-member={m.member}>
            <h4>{m.shortTitle}</h4>
            <p class="kpi-value" data-raw={String(row[m.member] ?? '')}>
              {formatValue(row[m.member], m.format, m.type)}
            </p>
            {mc ? (
              <p class={changeClass(mc)}>
                {formatChange(mc.percentChange)} <span class="muted">vs {formatValue(mc.previous, m.format, m.type)}</span>
              </p>
            ) : null}
          </section>
        );
      })}
    </div>
  );
}

export function ResultView({ result, kind, title, chartHeight }: { result: QueryResult; kind: ChartKind; title: string; chartHeight?: number }) {
  const option = useMemo(() => (kind === 'table' || kind === 'kpi' ? null : chartOption(result, kind, title)), [result, kind, title]);
  return (
    <div class="result-view">
      {result.notes.length ? (
        <ul class="notes">
          {result.notes.map((n) => (
            <li key={n.code + n.message}>
              <code>{n.code}</code> {n.message}
            </li>
          ))}
        </ul>
      ) : null}
      {kind === 'kpi' ? <KpiTiles result={result} /> : null}
      {option ? <Chart option={option} label={`${title}: ${kind} chart`} height={chartHeight} /> : null}
      {kind === 'table' ? <ResultTable result={result} caption={title} /> : null}
    </div>
  );
}
