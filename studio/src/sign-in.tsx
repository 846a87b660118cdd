/** Sign-in: paste a token or API key; in development, one click on a demo tenant. */
import { useEffect, useState } from 'preact/hooks';
import { type DevSession, fetchDevSessions, type Session } from './session.js';

export function SignIn({ onSession, message }: { onSession: (s: Session) => void; message: string | null }) {
  const [token, setToken] = useState('');
  const [dev, setDev] = useState<DevSession[]>([]);
  useEffect(() => {
    fetchDevSessions().then(setDev, () => setDev([]));
  }, []);
  return (
    <main class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Strata Studio</h1>
      <p>Explore the metrics your tenant may see, build a question, chart it, and open live dashboards.</p>
      {message ? (
        <p class="error" role="alert">
          {message}
        </p>
      ) : null}
      {dev.length ? (
        <section aria-labelledby="demo-title">
          <h2 id="demo-title">Demo tenants (development)</h2>
          <div class="row">
            {dev.map((d) => (
              <button
                type="button"
                class="primary"
                key={d.tenantId}
                data-tenant={d.tenantId}
                onClick={() => onSession({ token: d.token, label: `${d.name} · ${d.roles.join(', ')}`, tenantId: d.tenantId })}
              >
                {d.name}
              </button>
            ))}
          </div>
        </section>
      ) : null}
      <form
        aria-labelledby="token-title"
        onSubmit={(e) => {
          e.preventDefault();
          const t = token.trim().replace(/^Bearer\s+/i, '');
          if (t) onSession({ token: t, label: t.startsWith('sk_') ? `API key ${t.slice(0, 12)}…` : 'token' });
        }}
      >
        <h2 id="token-title">Sign in with a token or API key</h2>
        <label for="token">Token (JWT) or API key — kept in this browser tab only</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
