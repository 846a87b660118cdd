/** The widgets of an open dashboard as charts, with an "updated" mark and export buttons. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, gql } from './api.js';
import { type ChartKind, CHART_KINDS, defaultChart } from './chart-options.js';
import type { WidgetState } from './live-dashboard.js';
import { ResultView } from './result-view.js';

export interface WidgetDef {
  readonly id: string;
  readonly title: string;
  readonly query: unknown;
  readonly display: { readonly chart?: string } | null;
}

export interface LiveWidget {
  readonly def: WidgetDef;
  readonly state: WidgetState | undefined;
}

const FORMATS = ['csv', 'xlsx'] as const;

/** A report source's view takes the JSON spelling of a comparison ("previousPeriod"), not the GraphQL enum. */
function sourceView(view: unknown): unknown {
  const v = view as { compareTo?: { period?: string } } | null;
  if (!v?.compareTo?.period) return v;
  return { ...v, compareTo: { period: v.compareTo.period === 'PREVIOUS_PERIOD' ? 'previousPeriod' : 'samePeriodLastYear' } };
}

function ExportButtons({ token, dashboardId, widgetId, view }: { token: string; dashboardId: string; widgetId: string; view: unknown }) {
  const [link, setLink] = useState<{ url: string; name: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (format: string): Promise<void> => {
    setBusy(true);
    setError(null);
    setLink(null);
    try {
      const d = await gql<{ createExport: { downloadUrl: string | null; fileName: string; status: string } }>(
        token,
        'mutation ($source: JSON!, $format: String!) { createExport(source: $source, format: $format) { downloadUrl fileName status } }',
        { source: { kind: 'dashboard', id: dashboardId, widgetId, ...(view ? { view: sourceView(view) } : {}) }, format },
      );
      if (d.createExport.downloadUrl) setLink({ url: d.createExport.downloadUrl, name: d.createExport.fileName });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(String(e), 'ERROR');
      setError(`${err.code}: ${err.message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="exports">
      {FORMATS.map((f) => (
        <button
          key={f}
          type="button"
          class="link"
          disabled={busy}
          onClick={() => void run(f)}
          aria-label={`Export as ${f.toUpperCase()}`}
          title="A file holds the current period (a comparison stays on screen and in snapshots)"
        >
          {f.toUpperCase()}
        </button>
      ))}
      {link ? (
        <a href={link.url} download={link.name}>
          Download {link.name}
        </a>
      ) : null}
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function UpdatedMark({ state }: { state: WidgetState | undefined }) {
  const [fresh, setFresh] = useState(false);
  useEffect(() => {
    if (!state?.updates) return;
    setFresh(true);
    const t = setTimeout(() => setFresh(false), 4000);
    return () => clearTimeout(t);
  }, [state?.updates]);
  if (!state) return <span class="muted">loading…</span>;
  return (
    <span class={fresh ? 'updated fresh' : 'updated'} data-updates={state.updates} title="When this widget's data last arrived">
      {fresh ? '● updated ' : ''}
      {new Date(state.updatedAt).toLocaleTimeString()}
    </span>
  );
}

export function DashboardGrid({
  token,
  dashboardId,
  view,
  widgets,
  canEdit,
  onRemove,
}: {
  token: string;
  dashboardId: string;
  view: unknown;
  widgets: readonly LiveWidget[];
  canEdit: boolean;
  onRemove: (widgetId: string) => void;
}) {
  return (
    <div class="grid">
      {widgets.map(({ def, state }) => {
        const saved = def.display?.chart as ChartKind | undefined;
        const kind: ChartKind = saved && CHART_KINDS.includes(saved) ? saved : state?.result ? defaultChart(state.result) : 'table';
        return (
          <article class="widget" key={def.id} data-widget={def.id} aria-labelledby={`widget-${def.id}`}>
            <header>
              <h3 id={`widget-${def.id}`}>{def.title || def.id}</h3>
              <UpdatedMark state={state} />
            </header>
            {state?.error ? (
              <p class="error" role="alert">
                <code>{state.error.code}</code> {state.error.message}
              </p>
            ) : null}
            {state?.skipped.length ? <p class="muted">Not applied here: {state.skipped.map((s) => `${s.parameter} (${s.reason})`).join('; ')}</p> : null}
            {state?.result ? <ResultView result={state.result} kind={kind} title={def.title} chartHeight={240} /> : null}
            {state?.result && kind !== 'table' ? (
              <details>
                <summary>Table</summary>
                <ResultView result={state.result} kind="table" title={def.title} />
              </details>
            ) : null}
            <footer class="row">
              <ExportButtons token={token} dashboardId={dashboardId} widgetId={def.id} view={view} />
              {canEdit ? (
                <button type="button" class="link danger" onClick={() => onRemove(def.id)} aria-label={`Remove widget ${def.title}`}>
                  Remove
                </button>
              ) : null}
            </footer>
          </article>
        );
      })}
    </div>
  );
}
