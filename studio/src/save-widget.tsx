/** "Add to dashboard": the builder's question as a widget of an existing or a new dashboard. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, gql } from './api.js';
import { apiQuery, type BuilderState } from './builder-state.js';
import type { ChartKind } from './chart-options.js';

interface DashboardSummary {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly canEdit: boolean;
  readonly widgets: readonly { id: string; title: string; query: unknown; display: unknown }[];
}

export function widgetOf(state: BuilderState, title: string, chart: ChartKind, id: string): Record<string, unknown> {
  const query = apiQuery(state.query);
  if (state.compare) query.compareTo = { period: state.compare === 'PREVIOUS_PERIOD' ? 'previousPeriod' : 'samePeriodLastYear' };
  return { id, title, query, display: { chart } };
}

export function SaveToDashboard({ token, state, title, chart }: { token: string; state: BuilderState; title: string; chart: ChartKind }) {
  const [dashboards, setDashboards] = useState<DashboardSummary[] | null>(null);
  const [target, setTarget] = useState('new');
  const [name, setName] = useState('');
  const [widgetTitle, setWidgetTitle] = useState(title);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => setWidgetTitle(title), [title]);
  const load = (): void => {
    gql<{ dashboards: DashboardSummary[] | null }>(token, 'query { dashboards { id name version canEdit widgets { id title query display } } }').then(
      (d) => setDashboards((d.dashboards ?? []).filter((x) => x.canEdit)),
      () => setDashboards([]),
    );
  };
  const save = async (): Promise<void> => {
    setMessage(null);
    try {
      if (target === 'new') {
        const widget = widgetOf(state, widgetTitle, chart, 'w1');
        const d = await gql<{ createDashboard: { id: string; name: string } }>(
          token,
          'mutation ($input: CreateDashboardInput!) { createDashboard(input: $input) { id name } }',
          {
            input: { name: name || widgetTitle, widgets: [widget] },
          },
        );
        setMessage({ ok: true, text: `Created dashboard “${d.createDashboard.name}”.` });
        location.hash = `#/dashboards/${encodeURIComponent(d.createDashboard.id)}`;
        return;
      }
      const d = dashboards?.find((x) => x.id === target);
      if (!d) return;
      const ids = new Set(d.widgets.map((w) => w.id));
      let n = d.widgets.length + 1;
      while (ids.has(`w${n}`)) n++;
      const widgets = [
        ...d.widgets.map((w) => ({ id: w.id, title: w.title, query: w.query, ...(w.display ? { display: w.display } : {}) })),
        widgetOf(state, widgetTitle, chart, `w${n}`),
      ];
      await gql(token, 'mutation ($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { id version } }', {
        id: d.id,
        input: { widgets, expectedVersion: d.version },
      });
      setMessage({ ok: true, text: `Added to “${d.name}”.` });
      load();
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(String(e), 'ERROR');
      setMessage({ ok: false, text: `${err.code}: ${err.message}` });
    }
  };
  if (dashboards === null) {
    return (
      <button type="button" class="secondary" onClick={load}>
        Add to a dashboard…
      </button>
    );
  }
  return (
    <form
      class="save-widget row"
      aria-label="Add to a dashboard"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Widget title
        <input value={widgetTitle} onInput={(e) => setWidgetTitle(e.currentTarget.value)} required />
      </label>
      <label>
        Dashboard
        <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
          <option value="new">a new dashboard</option>
          {dashboards.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      {target === 'new' ? (
        <label>
          Name
          <input value={name} placeholder={widgetTitle} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
      ) : null}
      <button type="submit" class="primary">
        Save
      </button>
      {message ? (
        <p class={message.ok ? 'ok' : 'error'} role="status">
          {message.text}
        </p>
      ) : null}
    </form>
  );
}
