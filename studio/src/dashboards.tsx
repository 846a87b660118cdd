/** Dashboards: the list, and one dashboard opened with view-time filters and a comparison, live. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, gql } from './api.js';
import { DATE_RANGES } from './builder-state.js';
import { DashboardGrid, type LiveWidget, type WidgetDef } from './dashboard-grid.js';
import { useLiveDashboard } from './live-dashboard.js';
import type { ComparisonPeriod } from './types.js';

interface DashboardFilter {
  readonly name: string;
  readonly type: 'DATE_RANGE' | 'MEMBER';
  readonly member: string | null;
  readonly operator: string | null;
  readonly default: readonly string[] | null;
}

export interface DashboardDef {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly version: number;
  readonly canEdit: boolean;
  readonly canManage: boolean;
  readonly updatedAt: string;
  readonly filters: readonly DashboardFilter[];
  readonly widgets: readonly WidgetDef[];
}

const DASHBOARD_FIELDS =
  'id name description version canEdit canManage updatedAt filters { name type member operator default } widgets { id title query display }';

function errorOf(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(String(e), 'ERROR');
}

export function DashboardList({ token }: { token: string }) {
  const [list, setList] = useState<DashboardDef[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    gql<{ dashboards: DashboardDef[] | null }>(token, `query { dashboards { ${DASHBOARD_FIELDS} } }`).then(
      (d) => setList(d.dashboards ?? []),
      (e) => setError(errorOf(e)),
    );
  }, [token]);
  if (error)
    return (
      <p class="error" role="alert">
        <code>{error.code}</code> {error.message}
      </p>
    );
  if (!list) return <p class="muted">Loading dashboards…</p>;
  return (
    <section class="dashboard-list" aria-labelledby="dashboards-title">
      <h2 id="dashboards-title">Dashboards</h2>
      {list.length === 0 ? <p class="muted">No dashboards yet: build a query and “Add to a dashboard”.</p> : null}
      <ul>
        {list.map((d) => (
          <li key={d.id}>
            <a href={`#/dashboards/${encodeURIComponent(d.id)}`}>{d.name}</a>
            <span class="muted">
              {' '}
              · {d.widgets.length} widget{d.widgets.length === 1 ? '' : 's'}
              {d.filters.length ? ` · filters: ${d.filters.map((f) => f.name).join(', ')}` : ''} · v{d.version}
            </span>
            {d.description ? <p>{d.description}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

interface ViewInput {
  readonly values: readonly { name: string; values: string[] | null }[];
  readonly dateRange?: readonly string[];
  readonly compareTo?: { period: ComparisonPeriod };
}

function FilterBar({ dashboard, onApply }: { dashboard: DashboardDef; onApply: (view: ViewInput) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [range, setRange] = useState('');
  const [compare, setCompare] = useState('');
  const apply = (): void => {
    const vals = dashboard.filters
      .filter((f) => values[f.name] !== undefined)
      .map((f) => {
        const raw = values[f.name]!.trim();
        const list = f.type === 'DATE_RANGE' ? [raw] : raw.split(',').map((v) => v.trim());
        return { name: f.name, values: raw === '' ? null : list.filter(Boolean) };
      });
    onApply({ values: vals, ...(range ? { dateRange: [range] } : {}), ...(compare ? { compareTo: { period: compare as ComparisonPeriod } } : {}) });
  };
  return (
    <form
      class="filter-bar row"
      aria-label="Dashboard filters"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      {dashboard.filters.map((f) => (
        <div class="field" key={f.name}>
          <label htmlFor={`filter-${f.name}`}>{f.name}</label>
          {f.type === 'DATE_RANGE' ? (
            <select
              id={`filter-${f.name}`}
              name={`filter-${f.name}`}
              value={values[f.name] ?? (f.default ?? [''])[0]}
              onChange={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            >
              <option value="">(off)</option>
              {DATE_RANGES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`filter-${f.name}`}
              name={`filter-${f.name}`}
              placeholder={f.default?.length ? f.default.join(', ') : 'all'}
              value={values[f.name] ?? ''}
              onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            />
          )}
        </div>
      ))}
      <label>
        Date range
        <select name="dateRange" value={range} onChange={(e) => setRange(e.currentTarget.value)}>
          <option value="">as saved</option>
          {DATE_RANGES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label>
        Compare with
        <select name="compare" value={compare} onChange={(e) => setCompare(e.currentTarget.value)}>
          <option value="">no comparison</option>
          <option value="PREVIOUS_PERIOD">previous period</option>
          <option value="SAME_PERIOD_LAST_YEAR">same period last year</option>
        </select>
      </label>
      <button type="submit" class="primary">
        Apply
      </button>
    </form>
  );
}

function ManageBar({ token, dashboard, onChanged }: { token: string; dashboard: DashboardDef; onChanged: () => void }) {
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [shareUrl, setShareUrl] = useState<string | null>(null);
  const act = async (f: () => Promise<void>): Promise<void> => {
    setStatus(null);
    try {
      await f();
    } catch (e) {
      const err = errorOf(e);
      setStatus({ ok: false, text: `${err.code}: ${err.message}` });
    }
  };
  const rename = (): Promise<void> =>
    act(async () => {
      const name = prompt('New name', dashboard.name)?.trim();
      if (!name || name === dashboard.name) return;
      await gql(token, 'mutation ($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { id } }', {
        id: dashboard.id,
        input: { name, expectedVersion: dashboard.version },
      });
      onChanged();
    });
  const share = (): Promise<void> =>
    act(async () => {
      const d = await gql<{ createDashboardLink: { path: string; link: { expiresAt: string } } }>(
        token,
        'mutation ($id: ID!) { createDashboardLink(dashboardId: $id) { path link { expiresAt } } }',
        { id: dashboard.id },
      );
      setShareUrl(`${location.origin}${d.createDashboardLink.path}`);
      setStatus({ ok: true, text: `Read-only link, valid until ${d.createDashboardLink.link.expiresAt}.` });
    });
  const remove = (): Promise<void> =>
    act(async () => {
      if (!confirm(`Delete “${dashboard.name}” and all its versions?`)) return;
      await gql(token, 'mutation ($id: ID!) { deleteDashboard(id: $id) }', { id: dashboard.id });
      location.hash = '#/dashboards';
    });
  return (
    <div class="manage row">
      {dashboard.canEdit ? (
        <button type="button" class="secondary" onClick={() => void rename()}>
          Rename
        </button>
      ) : null}
      {dashboard.canManage ? (
        <button type="button" class="secondary" onClick={() => void share()}>
          Share link
        </button>
      ) : null}
      {dashboard.canManage ? (
        <button type="button" class="secondary danger" onClick={() => void remove()}>
          Delete
        </button>
      ) : null}
      {shareUrl ? <input class="share-url" readOnly value={shareUrl} aria-label="Share link" onFocus={(e) => e.currentTarget.select()} /> : null}
      {status ? (
        <span class={status.ok ? 'ok' : 'error'} role="status">
          {status.text}
        </span>
      ) : null}
    </div>
  );
}

export function DashboardView({ token, id }: { token: string; id: string }) {
  const [dashboard, setDashboard] = useState<DashboardDef | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [view, setView] = useState<ViewInput | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    gql<{ dashboard: DashboardDef | null }>(token, `query ($id: ID!) { dashboard(id: $id) { ${DASHBOARD_FIELDS} } }`, { id }).then(
      (d) => (d.dashboard ? setDashboard(d.dashboard) : setError(new ApiError(`No dashboard ${id} for your tenant`, 'NOT_FOUND'))),
      (e) => setError(errorOf(e)),
    );
  }, [token, id, reload]);
  const live = useLiveDashboard(token, dashboard ? id : null, view);
  if (error)
    return (
      <p class="error" role="alert">
        <code>{error.code}</code> {error.message}
      </p>
    );
  if (!dashboard) return <p class="muted">Loading…</p>;
  const removeWidget = async (widgetId: string): Promise<void> => {
    try {
      await gql(token, 'mutation ($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { id } }', {
        id,
        input: {
          widgets: dashboard.widgets
            .filter((w) => w.id !== widgetId)
            .map(({ id: wid, title, query, display }) => ({ id: wid, title, query, ...(display ? { display } : {}) })),
          expectedVersion: dashboard.version,
        },
      });
      setReload((n) => n + 1);
    } catch (e) {
      setError(errorOf(e));
    }
  };
  const widgets: LiveWidget[] = dashboard.widgets.map((w) => ({ def: w, state: live.widgets.get(w.id) }));
  return (
    <section class="dashboard" aria-labelledby="dashboard-title">
      <header>
        <h2 id="dashboard-title">{dashboard.name}</h2>
        <span class={`live-status ${live.status}`} role="status" data-status={live.status}>
          {live.status === 'live'
            ? '● live'
            : live.status === 'connecting'
              ? '○ connecting…'
              : `✕ ${live.error?.code ?? ''} ${live.error?.message ?? 'disconnected'}`}
        </span>
        {dashboard.description ? <p>{dashboard.description}</p> : null}
      </header>
      <ManageBar token={token} dashboard={dashboard} onChanged={() => setReload((n) => n + 1)} />
      <FilterBar dashboard={dashboard} onApply={setView} />
      <DashboardGrid token={token} dashboardId={id} view={view} widgets={widgets} canEdit={dashboard.canEdit} onRemove={(w) => void removeWidget(w)} />
    </section>
  );
}
