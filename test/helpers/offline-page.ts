/**
 * The offline rule for every HTML page Strata serves: a page and everything it loads come from the
 * server that served it, so it works on a machine without internet access. No CDN script or
 * stylesheet, no remote font, icon or image, no worker fetched from elsewhere.
 *
 * `offlineViolations(pageUrl, fetch)` fetches the page, collects every URL it would load (the
 * resource attributes of its elements, url()/@import in its styles, absolute http(s) URLs in its
 * inline scripts), then fetches each same-origin stylesheet and script it references (they must
 * answer 200) and scans stylesheets the same way. It returns one line per problem; [] means the
 * page keeps the rule. Links a user may follow (<a href>) are not loads and are not checked.
 * A real browser with the network cut off (test/e2e/graphql/graphiql.e2e.test.ts) is the final word;
 * this is the cheap check any page's test can run, in process or over HTTP.
 */

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** Element attributes that make a browser load something. */
const LOADING_ATTRIBUTES: readonly [tag: string, attr: string][] = [
  ['script', 'src'],
  ['link', 'href'],
  ['img', 'src'],
  ['img', 'srcset'],
  ['source', 'src'],
  ['source', 'srcset'],
  ['iframe', 'src'],
  ['frame', 'src'],
  ['embed', 'src'],
  ['object', 'data'],
  ['video', 'src'],
  ['video', 'poster'],
  ['audio', 'src'],
  ['track', 'src'],
  ['input', 'src'],
  ['image', 'href'],
  ['use', 'href'],
  ['base', 'href'],
];

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    out.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' } as Record<string, string>)[lower]!;
  });
}

/** url(...) and @import targets in CSS text. */
export function cssUrls(css: string): string[] {
  const out: string[] = [];
  for (const m of css.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/gi)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  for (const m of css.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

export interface PageResources {
  /** URLs the markup makes the browser load, as written. */
  readonly loads: string[];
  /** Same-origin stylesheets and scripts to fetch and check too (as written). */
  readonly stylesheets: string[];
  readonly scripts: string[];
}

/** Every URL an HTML document would load, found in its markup, inline styles and inline scripts. */
export function pageResources(html: string): PageResources {
  const loads: string[] = [];
  const stylesheets: string[] = [];
  const scripts: string[] = [];
  const withoutComments = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of withoutComments.matchAll(/<([a-z][a-z0-9-]*)(\s[^>]*)?>/gi)) {
    const tag = m[1]!.toLowerCase();
    const attrs = attributes(m[2] ?? '');
    for (const [t, a] of LOADING_ATTRIBUTES) {
      const value = t === tag ? attrs.get(a) : undefined;
      if (value === undefined || value === '') continue;
      const urls = a === 'srcset' ? value.split(',').map((c) => c.trim().split(/\s+/)[0]!) : [value];
      loads.push(...urls);
    }
    const href = attrs.get('href');
    if (tag === 'link' && href && /\bstylesheet\b/i.test(attrs.get('rel') ?? '')) stylesheets.push(href);
    const src = attrs.get('src');
    if (tag === 'script' && src) scripts.push(src);
    if (tag === 'meta' && /refresh/i.test(attrs.get('http-equiv') ?? '')) {
      const target = /url\s*=\s*['"]?([^'";]+)/i.exec(attrs.get('content') ?? '')?.[1];
      if (target) loads.push(target);
    }
    const style = attrs.get('style');
    if (style) loads.push(...cssUrls(style));
  }
  for (const m of withoutComments.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)) loads.push(...cssUrls(m[1]!));
  for (const m of withoutComments.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    if (attributes(m[1] ?? '').has('src')) continue;
    for (const u of m[2]!.matchAll(/\bhttps?:\/\/[a-z0-9.-]+(?::\d+)?[^\s"'`<>)]*/gi)) loads.push(u[0]);
  }
  return { loads, stylesheets, scripts };
}

/** Why a URL (as written in a page at pageUrl) leaves the server, or undefined when it does not. */
export function offlineProblem(ref: string, pageUrl: string): string | undefined {
  const trimmed = ref.trim();
  if (/^(data|blob|about|javascript):/i.test(trimmed) || trimmed.startsWith('#')) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed, pageUrl);
  } catch {
    return `unparseable URL ${JSON.stringify(ref)}`;
  }
  const page = new URL(pageUrl);
  if (url.host !== page.host) return `${ref} loads from ${url.host}, not ${page.host}`;
  return undefined;
}

/**
 * Everything that breaks the offline rule for the page at pageUrl ([] when none). The page itself
 * must answer HTML; each same-origin stylesheet and script must answer 200, and stylesheets are
 * scanned for url()/@import too.
 */
export async function offlineViolations(pageUrl: string, fetchFn: FetchLike = fetch, init: RequestInit = {}): Promise<string[]> {
  const res = await fetchFn(pageUrl, { ...init, headers: { accept: 'text/html', ...(init.headers as Record<string, string> | undefined) } });
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/html')) return [`${pageUrl} answered ${res.status} ${type}, not an HTML page`];
  const html = await res.text();
  const { loads, stylesheets, scripts } = pageResources(html);
  const problems: string[] = [];
  for (const ref of loads) {
    const p = offlineProblem(ref, pageUrl);
    if (p) problems.push(p);
  }
  for (const [ref, kind] of [...stylesheets.map((s) => [s, 'css'] as const), ...scripts.map((s) => [s, 'script'] as const)]) {
    if (offlineProblem(ref, pageUrl)) continue;
    const url = new URL(ref, pageUrl).toString();
    const asset = await fetchFn(url, { headers: { 'accept-encoding': 'identity' } });
    if (asset.status !== 200) {
      problems.push(`${ref} answered ${asset.status}`);
      continue;
    }
    if (kind === 'css') {
      for (const inner of cssUrls(await asset.text())) {
        const p = offlineProblem(inner, url);
        if (p) problems.push(`${ref}: ${p}`);
      }
    } else await asset.arrayBuffer();
  }
  return problems;
}
