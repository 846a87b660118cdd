/**
 * The credential Studio sends: a token or API key the person pasted, or a development session, kept
 * in sessionStorage only (gone when the tab closes; never in localStorage, cookies or the URL).
 */
const KEY = 'strata.studio.session';

export interface Session {
  readonly token: string;
  /** What the header shows: the demo tenant's name, or "token". */
  readonly label: string;
  readonly tenantId?: string;
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export interface DevSession {
  readonly tenantId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly token: string;
}

/** Development only: the demo tenants with a token each (404 elsewhere, then the picker is hidden). */
export async function fetchDevSessions(): Promise<DevSession[]> {
  const res = await fetch('/studio/dev-sessions', { headers: { accept: 'application/json' } });
  if (!res.ok) return [];
  const body = (await res.json()) as { sessions?: DevSession[] };
  return body.sessions ?? [];
}
