/**
 * A dashboard's widgets, live: one `dashboardLive` subscription per open dashboard and view. The first
 * message holds every widget; later ones only those that changed, each counted so the page can show
 * (and a test can see) which widget just updated.
 */
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, subscribe } from './api.js';
import { RESULT_FIELDS, type QueryResult } from './types.js';

export interface WidgetState {
  readonly result: QueryResult | null;
  readonly error: { code: string; message: string } | null;
  readonly skipped: readonly { parameter: string; reason: string }[];
  readonly updatedAt: number;
  /** Messages that carried this widget after the first one. */
  readonly updates: number;
}

interface LiveMessage {
  readonly dashboardLive: {
    readonly initial: boolean;
    readonly widgets: readonly {
      readonly id: string;
      readonly skipped: readonly { parameter: string; reason: string }[];
      readonly result: QueryResult | null;
      readonly error: { code: string; message: string } | null;
    }[];
  };
}

const SUBSCRIPTION = `subscription StudioDashboard($id: ID!, $view: DashboardViewInput) {
  dashboardLive(id: $id, view: $view) { initial widgets { id skipped { parameter reason } error { code message } result { ${RESULT_FIELDS} } } }
}`;

export function useLiveDashboard(token: string, id: string | null, view: unknown) {
  const [widgets, setWidgets] = useState<ReadonlyMap<string, WidgetState>>(new Map());
  const [status, setStatus] = useState<'connecting' | 'live' | 'error'>('connecting');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!id) return;
    setStatus('connecting');
    setWidgets(new Map());
    return subscribe<LiveMessage>(
      token,
      SUBSCRIPTION,
      { id, view },
      {
        next: (data) => {
          setStatus('live');
          setWidgets((prev) => {
            const next = new Map(prev);
            for (const w of data.dashboardLive.widgets) {
              const old = prev.get(w.id);
              next.set(w.id, {
                result: w.result,
                error: w.error,
                skipped: w.skipped,
                updatedAt: Date.now(),
                updates: data.dashboardLive.initial ? 0 : (old?.updates ?? 0) + 1,
              });
            }
            return next;
          });
        },
        error: (e) => {
          setStatus('error');
          setError(e);
        },
      },
    );
  }, [token, id, JSON.stringify(view)]);
  return { widgets, status, error };
}
