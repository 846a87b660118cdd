/** Query builder: pick members, time, filters, order and a comparison; see a table, a chart and the code. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, gql } from './api.js';
import { apiQuery, type BuilderState, DATE_RANGES, GRANULARITIES, setFilter, tidy, toggle } from './builder-state.js';
import { timeDimensions } from './catalog.js';
import { CHART_KINDS, type ChartKind, defaultChart } from './chart-options.js';
import { CodeTabs } from './code-tabs.js';
import { SaveToDashboard } from './save-widget.js';
import { ResultView } from './result-view.js';
import {
  type Catalog,
  type CatalogMember,
  type ComparisonPeriod,
  type CubeQuery,
  type Granularity,
  type Operator,
  RESULT_FIELDS,
  type QueryResult,
} from './types.js';

const OPERATORS: readonly Operator[] = ['equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'endsWith', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet'];

export async function runQuery(token: string, query: CubeQuery, compare: ComparisonPeriod | null): Promise<QueryResult> {
  const data = await gql<{ query: QueryResult }>(
    token,
    `query StudioRun($q: JSON!, $c: ComparisonInput) { query(query: $q, compareTo: $c) { ${RESULT_FIELDS} } }`,
    {
      q: apiQuery(query),
      c: compare ? { period: compare } : null,
    },
  );
  return data.query;
}

function Checks({
  legend,
  members,
  chosen,
  onChange,
}: {
  legend: string;
  members: readonly CatalogMember[];
  chosen: readonly string[];
  onChange: (path: string, on: boolean) => void;
}) {
  if (members.length === 0) return null;
  return (
    <fieldset class="checks">
      <legend>{legend}</legend>
      <div class="check-list">
        {members.map((m) => (
          <label key={m.path} title={m.description ?? ''}>
            <input type="checkbox" name={legend} value={m.path} checked={chosen.includes(m.path)} onChange={(e) => onChange(m.path, e.currentTarget.checked)} />
            {m.shortTitle}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function RangeControl({ value, onChange }: { value: string | readonly string[] | undefined; onChange: (v: string | readonly string[] | undefined) => void }) {
  const custom = Array.isArray(value);
  return (
    <div class="row">
      <label>
        Date range
        <select
          name="dateRange"
          value={custom ? 'custom' : ((value as string | undefined) ?? '')}
          onChange={(e) => {
            const v = e.currentTarget.value;
            onChange(
              v === ''
                ? undefined
                : v === 'custom'
                  ? [new Date(Date.now() - 30 * 86400_000).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)]
                  : v,
            );
          }}
        >
          <option value="">all time</option>
          {DATE_RANGES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
          <option value="custom">custom…</option>
        </select>
      </label>
      {custom ? (
        <>
          <label>
            From
            <input type="date" value={(value as string[])[0]} onChange={(e) => onChange([e.currentTarget.value, (value as string[])[1]!])} />
          </label>
          <label>
            To
            <input type="date" value={(value as string[])[1]} onChange={(e) => onChange([(value as string[])[0]!, e.currentTarget.value])} />
          </label>
        </>
      ) : null}
    </div>
  );
}

export function Builder({ token, catalog, state, onState }: { token: string; catalog: Catalog; state: BuilderState; onState: (s: BuilderState) => void }) {
  const cube = catalog.cubes.find((c) => c.name === state.cube) ?? catalog.cubes[0]!;
  const q = state.query;
  const [result, setResult] = useState<QueryResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [running, setRunning] = useState(false);
  const set = (query: CubeQuery, extra: Partial<BuilderState> = {}): void => onState({ ...state, query: tidy(query), ...extra });
  const times = timeDimensions(cube);
  const td = q.timeDimensions[0];
  const plainDims = cube.dimensions.filter((d) => d.type !== 'time');
  const allMembers = useMemo(() => [...cube.dimensions, ...cube.measures], [cube]);

  const run = async (): Promise<void> => {
    setRunning(true);
    setError(null);
    try {
      setResult(await runQuery(token, q, state.compare));
    } catch (e) {
      setResult(null);
      setError(e instanceof ApiError ? e : new ApiError(String(e), 'ERROR'));
    } finally {
      setRunning(false);
    }
  };
  // A new cube or a question from the explorer clears the old answer.
  useEffect(() => setResult(null), [state.cube]);

  const resolvedRange = (result?.query.timeDimensions as { dateRange?: string[] }[] | undefined)?.[0]?.dateRange ?? null;
  const chart: ChartKind = state.chart ?? (result ? defaultChart(result) : 'table');
  const title = q.measures.map((m) => cube.measures.find((x) => x.path === m)?.shortTitle ?? m).join(', ') || cube.title;

  return (
    <div class="builder">
      <form
        class="controls"
        aria-label="Query"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label>
          Cube or view
          <select
            name="cube"
            value={cube.name}
            onChange={(e) =>
              onState({
                cube: e.currentTarget.value,
                query: { ...q, measures: [], dimensions: [], timeDimensions: [], filters: [], segments: [], order: [] },
                compare: null,
                chart: null,
              })
            }
          >
            {catalog.cubes.map((c) => (
              <option key={c.name} value={c.name}>
                {c.title} ({c.kind})
              </option>
            ))}
          </select>
        </label>
        <Checks legend="Measures" members={cube.measures} chosen={q.measures} onChange={(p, on) => set({ ...q, measures: toggle(q.measures, p, on) })} />
        <Checks legend="Dimensions" members={plainDims} chosen={q.dimensions} onChange={(p, on) => set({ ...q, dimensions: toggle(q.dimensions, p, on) })} />
        {times.length ? (
          <fieldset>
            <legend>Time</legend>
            <div class="row">
              <label>
                Time dimension
                <select
                  name="timeDimension"
                  value={td?.dimension ?? ''}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    set({ ...q, timeDimensions: v ? [{ dimension: v, granularity: td?.granularity, dateRange: td?.dateRange ?? 'last 30 days' }] : [] });
                  }}
                >
                  <option value="">none</option>
                  {times.map((t) => (
                    <option key={t.path} value={t.path}>
                      {t.title}
                    </option>
                  ))}
                </select>
              </label>
              {td ? (
                <label>
                  Granularity
                  <select
                    name="granularity"
                    value={td.granularity ?? ''}
                    onChange={(e) => set({ ...q, timeDimensions: [{ ...td, granularity: (e.currentTarget.value || undefined) as Granularity | undefined }] })}
                  >
                    <option value="">total (no grouping)</option>
                    {GRANULARITIES.map((g) => (
                      <option key={g} value={g}>
                        {g}
                      </option>
                    ))}
                  </select>
                </label>
              ) : null}
            </div>
            {td ? <RangeControl value={td.dateRange} onChange={(v) => set({ ...q, timeDimensions: [{ ...td, dateRange: v }] })} /> : null}
            <label>
              Compare with
              <select
                name="compare"
                value={state.compare ?? ''}
                disabled={!td?.dateRange}
                onChange={(e) => onState({ ...state, compare: (e.currentTarget.value || null) as ComparisonPeriod | null })}
              >
                <option value="">no comparison</option>
                <option value="PREVIOUS_PERIOD">previous period</option>
                <option value="SAME_PERIOD_LAST_YEAR">same period last year</option>
              </select>
            </label>
          </fieldset>
        ) : null}
        <fieldset>
          <legend>Filters</legend>
          {q.filters.map((f, i) => (
            <div class="row filter" key={i}>
              <label>
                <span class="sr-only">Filter {i + 1} member</span>
                <select value={f.member} onChange={(e) => set(setFilter(q, i, { ...f, member: e.currentTarget.value }))}>
                  {allMembers.map((m) => (
                    <option key={m.path} value={m.path}>
                      {m.shortTitle}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                <span class="sr-only">Filter {i + 1} operator</span>
                <select value={f.operator} onChange={(e) => set(setFilter(q, i, { ...f, operator: e.currentTarget.value as Operator }))}>
                  {OPERATORS.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              </label>
              {f.operator === 'set' || f.operator === 'notSet' ? null : (
                <label>
                  <span class="sr-only">Filter {i + 1} values, comma separated</span>
                  <input
                    type="text"
                    placeholder="values, comma separated"
                    value={f.values.join(', ')}
                    onChange={(e) =>
                      set(
                        setFilter(q, i, {
                          ...f,
                          values: e.currentTarget.value
                            .split(',')
                            .map((v) => v.trim())
                            .filter(Boolean),
                        }),
                      )
                    }
                  />
                </label>
              )}
              <button type="button" class="link" aria-label={`Remove filter ${i + 1}`} onClick={() => set(setFilter(q, i, null))}>
                ✕
              </button>
            </div>
          ))}
          <button
            type="button"
            class="secondary"
            onClick={() => set({ ...q, filters: [...q.filters, { member: plainDims[0]?.path ?? allMembers[0]!.path, operator: 'equals', values: [] }] })}
          >
            Add filter
          </button>
        </fieldset>
        <Checks legend="Segments" members={cube.segments} chosen={q.segments} onChange={(p, on) => set({ ...q, segments: toggle(q.segments, p, on) })} />
        <fieldset>
          <legend>Order and limit</legend>
          <div class="row">
            <label>
              Order by
              <select
                name="orderBy"
                value={q.order[0]?.[0] ?? ''}
                onChange={(e) => set({ ...q, order: e.currentTarget.value ? [[e.currentTarget.value, q.order[0]?.[1] ?? 'desc']] : [] })}
              >
                <option value="">server default</option>
                {[...q.measures, ...q.dimensions, ...q.timeDimensions.map((t) => t.dimension)].map((p) => (
                  <option key={p} value={p}>
                    {allMembers.find((m) => m.path === p)?.title ?? p}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Direction
              <select
                name="orderDirection"
                value={q.order[0]?.[1] ?? 'desc'}
                disabled={!q.order[0]}
                onChange={(e) => set({ ...q, order: [[q.order[0]![0], e.currentTarget.value as 'asc' | 'desc']] })}
              >
                <option value="desc">descending</option>
                <option value="asc">ascending</option>
              </select>
            </label>
            <label>
              Limit
              <input
                name="limit"
                type="number"
                min={1}
                max={50000}
                value={q.limit ?? ''}
                onChange={(e) => set({ ...q, limit: e.currentTarget.value ? Number(e.currentTarget.value) : undefined })}
              />
            </label>
          </div>
        </fieldset>
        <button type="submit" class="primary" disabled={running || q.measures.length + q.dimensions.length === 0}>
          {running ? 'Running…' : 'Run query'}
        </button>
      </form>
      <section class="output" aria-label="Result" aria-live="polite" aria-busy={running}>
        <div class="toolbar" role="radiogroup" aria-label="Show as">
          {CHART_KINDS.map((k) => (
            <label key={k} class={chart === k ? 'seg active' : 'seg'}>
              <input type="radio" name="chart" value={k} checked={chart === k} onChange={() => onState({ ...state, chart: k })} />
              {k}
            </label>
          ))}
        </div>
        {error ? (
          <p class="error" role="alert">
            <code>{error.code}</code> {error.message}
          </p>
        ) : null}
        {result ? <ResultView result={result} kind={chart} title={title} /> : !error ? <p class="muted">Pick members and run the query.</p> : null}
        {result ? <SaveToDashboard token={token} state={state} title={title} chart={chart} /> : null}
        <CodeTabs query={q} catalog={catalog} compare={state.compare} resolvedRange={resolvedRange} />
      </section>
    </div>
  );
}
