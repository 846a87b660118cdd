/** The question as GraphQL, Cube REST JSON and SQL for the proxy, with a copy button. */
import { useState } from 'preact/hooks';
import { cubeRestJson, graphqlText, sqlText } from './query-text.js';
import type { Catalog, ComparisonPeriod, CubeQuery } from './types.js';

const TABS = ['GraphQL', 'Cube REST', 'SQL'] as const;

export function CodeTabs({
  query,
  catalog,
  compare,
  resolvedRange,
}: {
  query: CubeQuery;
  catalog: Catalog;
  compare: ComparisonPeriod | null;
  resolvedRange: readonly string[] | null;
}) {
  const [tab, setTab] = useState<(typeof TABS)[number]>('GraphQL');
  const [copied, setCopied] = useState(false);
  const text =
    tab === 'GraphQL'
      ? graphqlText(query, catalog, compare)
      : tab === 'Cube REST'
        ? cubeRestJson(query, compare)
        : sqlText(query, catalog, resolvedRange, compare);
  return (
    <section class="code" aria-label="The same question in code">
      <div role="tablist" aria-label="Code form">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" id={`code-tab-${t}`} aria-selected={tab === t} aria-controls="code-panel" onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
        <button
          type="button"
          class="link copy"
          onClick={() => {
            void navigator.clipboard?.writeText(text).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            });
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre id="code-panel" role="tabpanel" aria-labelledby={`code-tab-${tab}`} data-form={tab}>
        {text}
      </pre>
    </section>
  );
}
