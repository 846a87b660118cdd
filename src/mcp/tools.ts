/**
 * The MCP tools, bound to one request's context (the caller's principal): every read goes through
 * the query service (scopes, tenant scoping, rate limit, audit), catalogs show only what the caller
 * may read, and results are compact (columns once, rows as arrays, notes when an answer is empty).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { SCOPES, type Principal } from '../auth/principal.js';
import { publicErrorOf } from '../edge/errors.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { compactCatalog, exampleQueries, memberExtras, OPERATOR_MEANINGS, QUERY_GRAMMAR, searchCatalog } from '../query/agent-catalog.js';
import type { StrataQueryService } from '../query/query-service.js';
import type { CatalogCube, CatalogMember, QueryResult, RequestContext } from '../query/types.js';
import type { NormalizedFilter, SemanticQuery } from '../semantic/query.js';
import type { DashboardRepo } from '../store/dashboards.js';
import type { SavedQueryRepo } from '../store/saved-queries.js';
import { semanticQuerySchema } from './query-schema.js';

export interface McpToolDeps {
  readonly query: StrataQueryService;
  readonly savedQueries?: SavedQueryRepo;
  readonly dashboards?: DashboardRepo;
  readonly logger: Logger;
}

/** Scope that shows the compiled SQL in explain_query (tenant admins). */
export const SQL_SCOPE = SCOPES.TENANT_ADMIN;

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const text = (value: unknown): ToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });

/** User errors keep their code and message; anything else is "Unexpected error" plus a log line. */
async function guarded(ctx: RequestContext, logger: Logger, run: () => Promise<unknown>): Promise<ToolResult> {
  try {
    return text(await run());
  } catch (e) {
    const pub = publicErrorOf(e);
    if (!pub) logger.error({ requestId: ctx.requestId, door: 'mcp', err: (e as Error)?.message }, 'unexpected error (masked)');
    const body = pub
      ? { error: pub.message, code: pub.code, ...(Object.keys(pub.details).length ? { details: pub.details } : {}) }
      : { error: 'Unexpected error', code: 'INTERNAL' };
    return { ...text(body), isError: true };
  }
}

/** The store's view of the caller (the same rule as the GraphQL door's admin resolvers). */
function actorOf(p: Principal) {
  const admin = p.roles.includes('tenant_admin') || p.roles.includes('super_admin') || p.scopes.has(SCOPES.KEYS_ADMIN);
  return { tenantId: p.tenantId, subject: p.subject, admin };
}

function compactMember(m: CatalogMember, model: StrataQueryService['model']) {
  const x = memberExtras(model, m);
  return {
    name: m.path,
    type: m.kind === 'measure' ? `${m.type}${m.aggType ? `/${m.aggType}` : ''}` : m.type,
    ...(m.format ? { format: m.format } : {}),
    ...(x.currency ? { currency: x.currency } : {}),
    ...(x.rollingWindow ? { rollingWindow: x.rollingWindow } : {}),
    title: m.shortTitle,
    description: m.description,
    ...(x.synonyms.length ? { synonyms: x.synonyms } : {}),
    ...(x.seeAlso.length ? { seeAlso: x.seeAlso } : {}),
  };
}

/** Rows as arrays under one header: a third of the bytes of keyed rows. */
export function compactResult(r: QueryResult) {
  const columns = r.columns.map((c) => c.key);
  return {
    columns,
    rows: r.rows.map((row) => columns.map((k) => row[k] ?? null)),
    rowCount: r.rows.length,
    ...(r.total !== undefined ? { total: r.total } : {}),
    dateRanges: Object.fromEntries(r.query.timeDimensions.filter((t) => t.dateRange).map((t) => [t.dimension, t.dateRange])),
  };
}

/** Registrations, with handlers over one context: registerTools binds them to each call's context. */
interface Registrar {
  registerTool: McpServer['registerTool'];
  registerResource: McpServer['registerResource'];
  registerPrompt: McpServer['registerPrompt'];
}

/**
 * Registers the tools on `server`; each call runs with `contextOf()` (HTTP: the request's context;
 * stdio: a fresh context per call, so per-request state never piles up over a long session).
 */
export function registerTools(server: McpServer, deps: McpToolDeps, contextOf: () => RequestContext): void {
  const handlers = (ctx: RequestContext) => {
    const found = new Map<string, (...a: never[]) => unknown>();
    const keep = (name: string, ...rest: unknown[]) => {
      found.set(name, rest[rest.length - 1] as (...a: never[]) => unknown);
      return undefined as never;
    };
    defineTools({ registerTool: keep, registerResource: keep, registerPrompt: keep } as unknown as Registrar, deps, ctx);
    return found;
  };
  const call =
    (name: string) =>
    (...args: unknown[]) =>
      (handlers(contextOf()).get(name) as (...a: unknown[]) => unknown)(...args);
  const bound: Registrar = {
    registerTool: ((name: string, config: unknown) => server.registerTool(name, config as never, call(name) as never)) as never,
    registerResource: ((name: string, uri: string, config: unknown) => server.registerResource(name, uri, config as never, call(name) as never)) as never,
    registerPrompt: ((name: string, config: unknown, cb: unknown) => server.registerPrompt(name, config as never, cb as never)) as never,
  };
  defineTools(bound, deps, undefined as unknown as RequestContext);
}

function defineTools(server: Registrar, deps: McpToolDeps, ctx: RequestContext): void {
  const { query: service, logger } = deps;
  const model = service.model;
  const catalog = (): readonly CatalogCube[] => service.catalog(ctx.principal);
  const find = (name: string) => {
    const cubes = catalog();
    const cube = cubes.find((c) => c.name === name);
    if (cube) return { cube };
    for (const c of cubes) {
      const m = [...c.measures, ...c.dimensions, ...c.segments].find((x) => x.path === name);
      if (m) return { cube: c, member: m };
    }
    // Unknown and unreadable look the same: a caller never learns of members it may not read.
    throw new UserError('NOT_FOUND', `no cube or member "${name}" in your catalog; use search_catalog`);
  };

  async function samples(members: readonly CatalogMember[]) {
    const strings = members.filter((d) => d.kind === 'dimension' && d.type === 'string' && !d.primaryKey);
    const out: Record<string, readonly string[] | 'many'> = {};
    await Promise.all(
      strings.map(async (d) => {
        const s = await service.facts?.sampleValues(ctx, d.path).catch(() => undefined);
        if (s) out[d.path] = s.complete ? s.values : 'many';
      }),
    );
    return out;
  }

  async function run(q: SemanticQuery) {
    const loaded = await service.load(ctx, q);
    const noted = service.noteResult ? await service.noteResult(ctx, loaded) : { result: loaded, notes: [], empty: loaded.rows.length === 0 };
    const { result } = noted;
    return {
      ...compactResult(result),
      empty: noted.empty,
      notes: noted.notes,
      ...(result.comparison
        ? {
            comparison: {
              compareDateRange: result.comparison.compareDateRange,
              rows: result.comparison.rows.map((row) => ({ ...row.dimensions, ...Object.fromEntries(Object.entries(row.measures).map(([m, c]) => [m, c])) })),
            },
          }
        : {}),
    };
  }

  server.registerTool(
    'search_catalog',
    {
      title: 'Search the metric catalog',
      description:
        'Find measures, dimensions, segments and cubes by words (names, titles, descriptions, synonyms). Returns ranked members with why they matched. Start here, then describe the best hits.',
      inputSchema: {
        words: z.string().min(1).describe('Free words, e.g. "ad spend by platform" or "engagements per impression".'),
        limit: z.number().int().min(1).max(30).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    ({ words, limit }) =>
      guarded(ctx, logger, async () => ({ hits: searchCatalog(catalog(), words, limit ?? 10).map(({ score, ...h }) => ({ ...h, score })) })),
  );

  server.registerTool(
    'get_catalog',
    {
      title: 'The whole catalog, compact',
      description:
        'Every cube, view and member you may query in a compact text form (names, types, one-line descriptions) plus the date grammar and example queries by pattern.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () => guarded(ctx, logger, async () => ({ catalog: compactCatalog(model, catalog()), grammar: QUERY_GRAMMAR, examples: exampleQueries(model, catalog()) })),
  );

  server.registerTool(
    'describe',
    {
      title: 'Describe a cube or member',
      description:
        'Details of a cube/view ("ad_performance") or member ("ad_performance.cost"): type, format, currency, rolling window, scopes, joins, segments, filter operators, granularities, synonyms, look-alike notes, the values this tenant has for low-cardinality dimensions, and data coverage (first/last date, rows, last ingestion).',
      inputSchema: { name: z.string().min(1).describe('A cube, view or "cube.member" path.') },
      annotations: { readOnlyHint: true },
    },
    ({ name }) =>
      guarded(ctx, logger, async () => {
        const { cube, member } = find(name);
        const coverage = await service.facts?.coverage(ctx, cube.name);
        if (member) {
          const x = memberExtras(model, member);
          const values = member.kind === 'dimension' && member.type === 'string' ? await samples([member]) : {};
          return {
            ...compactMember(member, model),
            kind: member.kind,
            cube: cube.name,
            requiredScopes: member.scopes,
            filterOperators: x.filterOperators,
            ...(x.granularities ? { granularities: x.granularities } : {}),
            ...(values[member.path] ? { values: values[member.path] } : {}),
            coverage,
          };
        }
        return {
          name: cube.name,
          kind: cube.kind,
          title: cube.title,
          description: cube.description,
          joins: cube.joins,
          coverage,
          measures: cube.measures.map((m) => compactMember(m, model)),
          dimensions: cube.dimensions.map((m) => compactMember(m, model)),
          segments: cube.segments.map((s) => ({ name: s.path, description: s.description })),
          values: await samples(cube.dimensions),
        };
      }),
  );

  server.registerTool(
    'run_query',
    {
      title: 'Run a semantic query',
      description:
        "Run a query over the semantic layer (never SQL). Returns columns, rows (arrays in column order), rowCount, the resolved dateRanges, empty, and notes (why an answer is empty, limits reached). Percent values are already x 100; currency values are in the member's currency.",
      inputSchema: { query: semanticQuerySchema },
      annotations: { readOnlyHint: true },
    },
    ({ query }) => guarded(ctx, logger, () => run(query as SemanticQuery)),
  );

  server.registerTool(
    'explain_query',
    {
      title: 'Validate and explain a query without running it',
      description:
        'Checks a query (names, operators, dates, scopes) and explains it: the members with their descriptions, the cubes joined, what each filter means, the resolved date ranges. The SQL is shown only to tenant admins.',
      inputSchema: { query: semanticQuerySchema },
      annotations: { readOnlyHint: true },
    },
    ({ query }) =>
      guarded(ctx, logger, async () => {
        const { normalized, compiled } = service.compile(ctx.principal, query as SemanticQuery);
        const byPath = new Map(catalog().flatMap((c) => [...c.measures, ...c.dimensions, ...c.segments].map((m) => [m.path, m])));
        const describe = (p: string) => ({ name: p, description: byPath.get(p)?.description });
        const filters: string[] = [];
        const walk = (f: NormalizedFilter, depth: number) => {
          if (f.kind === 'member')
            filters.push(`${'  '.repeat(depth)}${f.member} ${f.operator} ${JSON.stringify(f.values)}: ${OPERATOR_MEANINGS[f.operator] ?? f.operator}`);
          else {
            filters.push(`${'  '.repeat(depth)}${f.kind.toUpperCase()}:`);
            for (const x of f.filters) walk(x, depth + 1);
          }
        };
        for (const f of normalized.filters) walk(f, 0);
        return {
          valid: true,
          measures: normalized.measures.map(describe),
          dimensions: normalized.dimensions.map(describe),
          segments: normalized.segments.map(describe),
          timeDimensions: normalized.timeDimensions,
          filters,
          cubes: compiled.cubes,
          columns: compiled.columns.map((c) => c.key),
          limit: normalized.limit,
          timezone: normalized.timezone,
          ...(ctx.principal.scopes.has(SQL_SCOPE) ? { sql: compiled.sql, params: compiled.params } : {}),
        };
      }),
  );

  server.registerTool(
    'list_saved',
    {
      title: 'List saved queries and dashboards',
      description: "Saved queries and dashboards you may see (yours, shared with you, and the tenant's).",
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () =>
      guarded(ctx, logger, async () => {
        const actor = actorOf(ctx.principal);
        const [saved, boards] = await Promise.all([deps.savedQueries?.list(actor) ?? [], deps.dashboards?.list(actor) ?? []]);
        return {
          savedQueries: saved.map((s) => ({ id: s.id, name: s.name, owner: s.owner, query: s.query })),
          dashboards: boards.map((d) => ({ id: d.id, name: d.name, description: d.description, version: d.version })),
        };
      }),
  );

  server.registerTool(
    'run_saved',
    {
      title: 'Run a saved query or a dashboard',
      description: 'Runs a saved query, or every widget of a dashboard, by id (from list_saved). Same result shape as run_query (per widget for dashboards).',
      inputSchema: { kind: z.enum(['savedQuery', 'dashboard']), id: z.string().min(1) },
      annotations: { readOnlyHint: true },
    },
    ({ kind, id }) =>
      guarded(ctx, logger, async () => {
        const actor = actorOf(ctx.principal);
        if (kind === 'savedQuery') {
          const s = await deps.savedQueries?.get(actor, id);
          if (!s) throw new UserError('NOT_FOUND', `saved query "${id}" not found`, { id });
          return { id: s.id, name: s.name, result: await run(s.query) };
        }
        const d = await deps.dashboards?.get(actor, id);
        if (!d) throw new UserError('NOT_FOUND', `dashboard "${id}" not found`, { id });
        // Issued in one tick: widgets over the same rows share statements.
        const widgets = await Promise.all(
          d.widgets.map(async (w) => {
            try {
              return { id: w.id, title: w.title, result: await run(w.query) };
            } catch (e) {
              const pub = publicErrorOf(e);
              return { id: w.id, title: w.title, error: pub ? { code: pub.code, message: pub.message } : { code: 'INTERNAL', message: 'Unexpected error' } };
            }
          }),
        );
        return { id: d.id, name: d.name, widgets };
      }),
  );

  server.registerResource(
    'catalog',
    'strata://catalog',
    { title: 'Metric catalog (compact)', description: 'Every cube and member you may query, one line each.', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: compactCatalog(model, catalog()) }] }),
  );

  server.registerPrompt(
    'analyze_metric',
    {
      title: 'Analyze a marketing metric',
      description: 'Find the member for a metric, check its coverage, and show its trend and top breakdown.',
      argsSchema: {
        metric: z.string().describe('The metric in your words, e.g. "cost per click"'),
        period: z.string().optional().describe('A date range, default "last 3 months"'),
      },
    },
    ({ metric, period }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `Using the Strata tools: search_catalog for "${metric}", describe the best measure (check its coverage and currency), then run_query its weekly trend over "${period ?? 'last 3 months'}" and its top 5 values of the most relevant dimension. Report numbers with their units and mention any notes.`,
          },
        },
      ],
    }),
  );
}
