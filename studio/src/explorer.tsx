/** Catalog explorer: cubes and views the caller may see, their members, scopes and data coverage. */
import { useMemo, useState } from 'preact/hooks';
import { cubeMatches, memberMatches, words } from './catalog.js';
import type { Catalog, CatalogCube, CatalogMember } from './types.js';

function MemberRows({
  cube,
  members,
  kind,
  ws,
  onUse,
}: {
  cube: CatalogCube;
  members: readonly CatalogMember[];
  kind: string;
  ws: string[];
  onUse: (m: CatalogMember) => void;
}) {
  const shown = members.filter((m) => memberMatches(cube, m, ws));
  if (shown.length === 0) return null;
  return (
    <section>
      <h3>
        {kind} <span class="muted">({shown.length})</span>
      </h3>
      <table class="members">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
            <th scope="col">Scopes</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((m) => (
            <tr key={m.path} data-path={m.path}>
              <td>
                <strong>{m.title}</strong>
                <br />
                <code>{m.path}</code>
              </td>
              <td>
                {m.aggType ?? m.type}
                {m.format ? <span class="tag">{m.format}</span> : null}
                {m.currency ? <span class="tag">{m.currency}</span> : null}
              </td>
              <td>
                {m.description}
                {m.synonyms.length ? <div class="muted">also: {m.synonyms.join(', ')}</div> : null}
              </td>
              <td>{m.requiredScopes.length ? m.requiredScopes.map((s) => <span class="tag scope">{s}</span>) : <span class="muted">—</span>}</td>
              <td>
                <button type="button" class="link" onClick={() => onUse(m)} aria-label={`Query ${m.title} in the builder`}>
                  Query
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Explorer({ catalog, onUse }: { catalog: Catalog; onUse: (cube: CatalogCube, member: CatalogMember | null) => void }) {
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState<string>(catalog.cubes[0]?.name ?? '');
  const ws = useMemo(() => words(search), [search]);
  const cubes = useMemo(() => catalog.cubes.map((c) => ({ c, hits: cubeMatches(c, ws) })).filter((x) => x.hits > 0), [catalog, ws]);
  const cube = cubes.find((x) => x.c.name === selected)?.c ?? cubes[0]?.c;
  // Members are filtered by the words only when the cube itself did not match them.
  const own = cube && ws.length && cubeMatches({ ...cube, measures: [], dimensions: [], segments: [] }, ws) ? [] : ws;
  return (
    <div class="explorer">
      <aside class="cube-list">
        <label for="catalog-search">Search the catalog</label>
        <input id="catalog-search" type="search" placeholder="e.g. spend, roas, email" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <ul aria-label="Cubes and views">
          {cubes.map(({ c, hits }) => (
            <li key={c.name}>
              <button
                type="button"
                class={c === cube ? 'cube active' : 'cube'}
                aria-current={c === cube ? 'true' : undefined}
                onClick={() => setSelected(c.name)}
              >
                <span>{c.title}</span>
                <span class="tag">{c.kind}</span>
                {ws.length ? <span class="muted"> {hits}</span> : null}
              </button>
            </li>
          ))}
        </ul>
        {cubes.length === 0 ? <p class="muted">Nothing matches “{search}”.</p> : null}
      </aside>
      {cube ? (
        <article class="cube-detail" aria-labelledby="cube-title">
          <header>
            <h2 id="cube-title">
              {cube.title} <code>{cube.name}</code>
            </h2>
            <p>{cube.description}</p>
            {cube.coverage ? (
              <p class="coverage">
                Data: {cube.coverage.firstDate ?? '?'} → {cube.coverage.lastDate ?? '?'} · about {Math.round(cube.coverage.approxRows).toLocaleString('en-US')}{' '}
                rows
                {cube.coverage.lastIngestedAt ? ` · last ingest ${cube.coverage.lastIngestedAt}` : ''}
              </p>
            ) : null}
            <button type="button" onClick={() => onUse(cube, null)}>
              Query {cube.title}
            </button>
          </header>
          <MemberRows cube={cube} members={cube.measures} kind="Measures" ws={own} onUse={(m) => onUse(cube, m)} />
          <MemberRows cube={cube} members={cube.dimensions} kind="Dimensions" ws={own} onUse={(m) => onUse(cube, m)} />
          <MemberRows cube={cube} members={cube.segments} kind="Segments" ws={own} onUse={(m) => onUse(cube, m)} />
        </article>
      ) : null}
    </div>
  );
}
