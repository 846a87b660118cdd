/** What each CLI command accepts: the parser, `strata --help` and `strata <command> --help` all read this. */
import type { CommandSpec, OptionSpec } from './args.js';

const tenant: OptionSpec = { type: 'string', value: 'ID', description: 'tenant to act as (e.g. acme)', required: true };
const roles: OptionSpec = { type: 'string', value: 'R,R', description: 'roles: viewer, analyst, tenant_admin, super_admin' };
const scopes: OptionSpec = { type: 'string', value: 'S,S', description: 'scopes, e.g. "metrics:read finance:read" (with --roles: added to them)' };
const QUERY_JSON = `'{"measures":["ad_performance.ctr"],"dimensions":["ad_performance.platform"],"timeDimensions":[{"dimension":"ad_performance.date","dateRange":"last month"}]}'`;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    summary: 'Start GraphQL (+ subscriptions), the Cube REST API, ingestion, /metrics and the SQL proxy.',
    details:
      'Configured by environment variables (PORT, HOST, DATA_DIR, CLICKHOUSE_URL, DATABASE_URL, JWT_SECRET, ...; see README).\n' +
      'Applies migrations, seeds the demo warehouse when it is empty (SEED_DEMO, default on outside production) and\n' +
      'moves demo data that no longer ends yesterday when nothing but the seed wrote it.',
    options: {},
    examples: ['npx strata serve', 'PORT=4001 SQL_PROXY_ENABLED=false npx strata serve'],
  },
  {
    name: 'migrate',
    summary: 'Apply the ClickHouse and Postgres migrations (also done by serve).',
    options: {},
    examples: ['DATABASE_URL=postgres://strata@db/strata CLICKHOUSE_URL=http://ch:8123 npx strata migrate'],
  },
  {
    name: 'seed',
    summary: "(Re)load the deterministic demo warehouse: replaces the demo tenants' rows (acme, globex, initech), never other tenants'.",
    details:
      'Two years of daily data ending on --end-date. Stop a running server on the same DATA_DIR first (embedded ClickHouse opens a directory in one process).',
    options: {
      scale: { type: 'string', value: 'N', description: 'multiplies the fact rows (1 = about 1.1M rows; default DEMO_SCALE or 1)' },
      seed: { type: 'string', value: 'N', description: 'PRNG seed (default 42)' },
      'end-date': { type: 'string', value: 'YYYY-MM-DD', description: 'last day of data (default DEMO_END_DATE, else yesterday UTC)' },
    },
    examples: ['npx strata seed', 'npx strata seed --scale 0.1 --end-date 2026-10-31'],
  },
  {
    name: 'validate-models',
    summary: 'Check cube-models/ (MODELS_DIR) and list every problem with file:line and a suggestion.',
    options: {},
    examples: ['npx strata validate-models', 'MODELS_DIR=./my-models npx strata validate-models'],
  },
  {
    name: 'query',
    summary: 'Run a Cube-style semantic query as a tenant and print a table (no server needed).',
    details: 'Without --roles and --scopes the query runs with every scope.',
    positionals: [{ name: 'json', description: 'the query as JSON', required: true, rest: true }],
    options: { tenant, roles, scopes, json: { type: 'boolean', description: 'print rows as JSON (full precision)' } },
    examples: [`npx strata query --tenant acme ${QUERY_JSON}`],
  },
  {
    name: 'sql',
    summary: 'Print the ClickHouse SQL and parameters a semantic query compiles to (nothing is run).',
    positionals: [{ name: 'json', description: 'the query as JSON', required: true, rest: true }],
    options: { tenant, roles, scopes },
    examples: [`npx strata sql --tenant acme '{"measures":["ad_performance.ctr"]}'`],
  },
  {
    name: 'token',
    summary: 'Mint a JWT signed with JWT_SECRET (HS256) for a tenant.',
    options: {
      tenant,
      roles: { ...roles, description: `${roles.description} (default analyst unless --scopes)` },
      scopes,
      expires: { type: 'string', value: 'DURATION', description: 'lifetime: 30m, 12h, 7d (default 12h)' },
      subject: { type: 'string', value: 'SUB', description: 'the token subject (default cli)' },
    },
    examples: ['npx strata token --tenant acme', 'npx strata token --tenant acme --roles tenant_admin --expires 1h'],
  },
  {
    name: 'tenant create',
    summary: 'Create a tenant in the metadata store (DATABASE_URL or embedded) and optionally its first admin API key.',
    details:
      'The key secret is printed once and never stored (only its hash). Use it as `Authorization: Bearer sk_live_...`\n' +
      'or as the SQL proxy password. An existing tenant is left unchanged (a new key is still created with --admin-key).',
    positionals: [{ name: 'id', description: 'tenant id: lower-case letters, digits, - and _ (e.g. umbrella)', required: true }],
    options: {
      name: { type: 'string', value: 'NAME', description: 'display name (default: the id)' },
      plan: { type: 'string', value: 'PLAN', description: 'free, pro or enterprise (rate limits; default free)' },
      'admin-key': { type: 'boolean', description: 'also create an API key with the tenant_admin scopes' },
      'key-name': { type: 'string', value: 'NAME', description: 'name of that key (default "first admin key")' },
      json: { type: 'boolean', description: 'print the result as JSON' },
    },
    examples: ['npx strata tenant create umbrella --name "Umbrella Corp" --plan pro --admin-key'],
  },
  {
    name: 'mcp',
    summary: 'Serve MCP (Model Context Protocol) over stdio for desktop AI agents, acting with STRATA_TOKEN.',
    details:
      'STRATA_TOKEN: a JWT or an API key (its tenant and scopes apply). With STRATA_URL, or beside a running server on the\n' +
      "same DATA_DIR, messages go to that server's /mcp; otherwise the tools run in this process.",
    options: {},
    examples: [
      'STRATA_TOKEN=$(npx strata token --tenant acme --roles viewer) npx strata mcp',
      'STRATA_URL=http://127.0.0.1:4000 STRATA_TOKEN=sk_live_... npx strata mcp',
    ],
  },
  {
    name: 'print-schema',
    summary: 'Print the GraphQL SDL generated from the models.',
    options: {
      out: { type: 'string', value: 'FILE', description: 'file to write (default schema/schema.graphql)' },
      stdout: { type: 'boolean', description: 'write to stdout instead of a file' },
    },
    examples: ['npx strata print-schema', 'npx strata print-schema --stdout | head'],
  },
];

/** Commands with subcommands ("tenant" -> "tenant create"). */
export const GROUPS: Readonly<Record<string, string>> = { tenant: 'manage tenants in the metadata store' };

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'strata: GraphQL semantic layer for multi-tenant marketing analytics',
    '',
    'Usage: strata <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary.split(/(?<=\.) /)[0]}`),
    '',
    'Run `strata <command> --help` for its options and an example.',
    'Settings come from environment variables (DATA_DIR, DATABASE_URL, CLICKHOUSE_URL, JWT_SECRET, ...): see README.',
    '',
    'Example:',
    `  npx strata query --tenant acme ${QUERY_JSON}`,
    '',
  ].join('\n');
}

export function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `Usage: strata ${group} <subcommand> [options]`,
    '',
    GROUPS[group] ?? '',
    '',
    'Subcommands:',
    ...subs.map((c) => `  ${c.name.slice(group.length + 1).padEnd(10)}${c.summary}`),
    '',
    'Example:',
    ...subs.map((c) => `  ${c.examples[0]}`),
    '',
  ].join('\n');
}
