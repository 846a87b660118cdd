/** The page: sign-in, then Explore / Build / Dashboards under one header, routed by the URL hash. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, closeLive } from './api.js';
import { Builder } from './builder.js';
import { type BuilderState, decodeState, encodeState, startOn } from './builder-state.js';
import { loadCatalog } from './catalog.js';
import { DashboardList, DashboardView } from './dashboards.js';
import { Explorer } from './explorer.js';
import { loadSession, type Session, saveSession } from './session.js';
import { SignIn } from './sign-in.js';
import type { Catalog } from './types.js';

interface Route {
  readonly page: 'explore' | 'build' | 'dashboards' | 'dashboard';
  readonly id?: string;
  readonly state?: string | null;
}

function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'build') return { page: 'build', state: new URLSearchParams(search).get('s') };
  if (parts[0] === 'dashboards' && parts[1]) return { page: 'dashboard', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'dashboards') return { page: 'dashboards' };
  return { page: 'explore' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV: readonly [Route['page'], string, string][] = [
  ['explore', '#/explore', 'Explore'],
  ['build', '#/build', 'Build'],
  ['dashboards', '#/dashboards', 'Dashboards'],
];

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [signInMessage, setSignInMessage] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const route = useRoute();
  const [builder, setBuilder] = useState<BuilderState | null>(() => decodeState(route.state ?? null));
  const signOut = (message: string | null): void => {
    saveSession(null);
    closeLive();
    setCatalog(null);
    setSession(null);
    setSignInMessage(message);
  };
  useEffect(() => {
    if (!session) return;
    setLoadError(null);
    loadCatalog(session.token).then(setCatalog, (e: unknown) => {
      const err = e instanceof ApiError ? e : new ApiError(String(e), 'ERROR');
      if (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN' || err.code === 'TENANT_SUSPENDED') signOut(`${err.code}: ${err.message}`);
      else setLoadError(err);
    });
  }, [session]);
  if (!session) {
    return (
      <SignIn
        message={signInMessage}
        onSession={(s) => {
          saveSession(s);
          setSignInMessage(null);
          setSession(s);
        }}
      />
    );
  }
  // The builder's question lives here (kept across tabs) and in the URL, replaced in place on each
  // edit so it can be bookmarked without every click adding a history entry.
  const setBuilderState = (s: BuilderState, navigate = false): void => {
    setBuilder(s);
    const hash = `#/build?s=${encodeState(s)}`;
    if (navigate) location.hash = hash;
    else history.replaceState(null, '', hash);
  };
  const current = route.page === 'dashboard' ? 'dashboards' : route.page;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Strata Studio</strong>
        <nav aria-label="Studio">
          {NAV.map(([page, href, label]) => (
            <a key={page} href={href} aria-current={current === page ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-session={session.tenantId ?? ''}>
          {session.label}
        </span>
        <a href="/graphql">GraphiQL</a>
        <button type="button" class="link" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {loadError ? (
          <p class="error" role="alert">
            <code>{loadError.code}</code> {loadError.message}
          </p>
        ) : null}
        {!catalog && !loadError ? <p class="muted">Loading the catalog…</p> : null}
        {catalog && route.page === 'explore' ? <Explorer catalog={catalog} onUse={(cube, member) => setBuilderState(startOn(cube, member), true)} /> : null}
        {catalog && route.page === 'build' ? (
          catalog.cubes.length ? (
            <Builder token={session.token} catalog={catalog} state={builder ?? startOn(catalog.cubes[0]!, null)} onState={(s) => setBuilderState(s)} />
          ) : (
            <p class="muted">Your scopes show no cube.</p>
          )
        ) : null}
        {route.page === 'dashboards' ? <DashboardList token={session.token} /> : null}
        {route.page === 'dashboard' && route.id ? <DashboardView token={session.token} id={route.id} /> : null}
      </main>
    </>
  );
}
