/**
 * Strata CLI: serve, migrate, seed, validate-models, query, sql, token, print-schema.
 * Usage: npx strata <command> [options]   (or npm run strata -- <command>)
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SCOPES, expandScopes, type Principal } from './auth/principal.js';
import { renderTable } from './cli/table.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ModelError, UserError } from './errors.js';
import { createLogger } from './logger.js';
import { readModelFiles } from './model-files.js';
import type { RequestContext } from './query/types.js';
import { validateModel } from './semantic/load.js';
import type { SemanticQuery } from './semantic/query.js';
import { createCoreServices, createServices, loadModelFromDir } from './services.js';

const HELP = `strata — GraphQL semantic layer for multi-tenant marketing analytics

Commands:
  serve                         start GraphQL, REST, subscriptions and the SQL proxy
  migrate                       apply ClickHouse and Postgres migrations
  seed                          (re)load the deterministic demo warehouse (replaces the demo tenants' rows)
  validate-models               check cube-models/ and list every problem with file:line
  query --tenant T [--scopes S] [--roles R] '<json>'
                                run a Cube-style semantic query as tenant T and print a table
  sql --tenant T '<json>'       print the ClickHouse SQL a query compiles to
  token --tenant T [--roles R] [--scopes S] [--expires 12h]
                                mint a development JWT (HS256 with JWT_SECRET)
  print-schema [--out FILE]     print the GraphQL SDL (default schema/schema.graphql)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      roles: { type: 'string' },
      expires: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      stdout: { type: 'boolean' },
    },
  });
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { serve } = await import('./server.js');
      await serve(config);
      return -1; // keep running
    }
    case 'migrate': {
      const services = await createServices(config, { seed: false });
      await services.close();
      console.log('migrations applied (ClickHouse and Postgres)');
      return 0;
    }
    case 'seed':
      return seed(config);
    case 'validate-models':
      return validate(config);
    case 'query':
    case 'sql':
      return runQuery(config, command, values, positionals);
    case 'token':
      return token(config, values);
    case 'print-schema':
      return printSchema(config, values.out, Boolean(values.stdout));
    case undefined:
    case 'help':
    case '--help':
      console.log(HELP);
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

async function seed(config: Config): Promise<number> {
  const { seedDemo } = await import('./demo/seed.js');
  const core = await createCoreServices(config, { seed: false });
  try {
    const started = Date.now();
    const { rows } = await seedDemo(core.engine, { scale: config.demo.scale });
    console.log(renderTable(['table', 'rows'], Object.entries(rows)));
    console.log(`seeded in ${Date.now() - started} ms`);
    return 0;
  } finally {
    await core.close();
  }
}

async function validate(config: Config): Promise<number> {
  const files = await readModelFiles(config.modelsDir);
  const { model, problems } = validateModel(files);
  if (problems.length > 0) {
    console.error(new ModelError(problems).message);
    return 1;
  }
  const cubes = Object.values(model.cubes);
  const rows = cubes.map((c) => [c.name, Object.keys(c.measures).length, Object.keys(c.dimensions).length, Object.keys(c.segments).length, c.tenant.kind === 'shared' ? 'shared' : c.tenant.column]);
  for (const v of Object.values(model.views)) rows.push([`${v.name} (view)`, Object.keys(v.members).length, '', '', 'via cubes']);
  console.log(renderTable(['cube', 'measures', 'dimensions', 'segments', 'tenant'], rows));
  console.log(`${files.length} files, ${cubes.length} cubes, ${Object.keys(model.views).length} views: OK`);
  return 0;
}

function cliPrincipal(values: { tenant?: string; scopes?: string; roles?: string }): Principal {
  if (!values.tenant) throw new UserError('BAD_USER_INPUT', '--tenant is required (e.g. --tenant acme)');
  const roles = values.roles ? values.roles.split(/[ ,]+/).filter(Boolean) : [];
  const scopes = values.scopes ? values.scopes.split(/[ ,]+/).filter(Boolean) : roles.length ? [] : Object.values(SCOPES);
  return { tenantId: values.tenant, scopes: expandScopes(scopes, roles), subject: 'cli', via: 'cli', roles };
}

async function runQuery(config: Config, command: 'query' | 'sql', values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const principal = cliPrincipal(values as { tenant?: string });
  const text = positionals.join(' ').trim();
  if (!text) throw new UserError('BAD_USER_INPUT', `usage: strata ${command} --tenant acme '{"measures":["ad_performance.ctr"]}'`);
  let query: SemanticQuery;
  try {
    query = JSON.parse(text) as SemanticQuery;
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `query is not valid JSON: ${(e as Error).message}`);
  }
  const quiet = { ...config, logLevel: 'warn' } as Config;
  const core = await createCoreServices(quiet, { logger: createLogger('warn') });
  try {
    if (command === 'sql') {
      const { compiled } = core.query.compile(principal, query);
      console.log(compiled.sql);
      console.log(JSON.stringify(compiled.params, null, 2));
      return 0;
    }
    const ctx: RequestContext = { requestId: 'cli', door: 'cli', principal, memo: new Map() };
    const result = await core.query.load(ctx, query);
    if (values.json) {
      console.log(JSON.stringify(result.rows, null, 2));
    } else {
      const keys = result.columns.map((c) => c.key);
      console.log(renderTable(keys, result.rows.map((r) => keys.map((k) => r[k]))));
      if (result.total !== undefined) console.log(`total: ${result.total}`);
    }
    return 0;
  } finally {
    await core.close();
  }
}

async function token(config: Config, values: { tenant?: string; roles?: string; scopes?: string; expires?: string }): Promise<number> {
  const { mintDevToken } = await import('./auth/jwt.js');
  if (!config.auth.jwtSecret) throw new UserError('BAD_USER_INPUT', 'JWT_SECRET is not set (tokens from JWKS issuers cannot be minted here)');
  if (!values.tenant) throw new UserError('BAD_USER_INPUT', '--tenant is required');
  const roles = values.roles ? values.roles.split(/[ ,]+/) : values.scopes ? [] : ['analyst'];
  const scopes = values.scopes ? values.scopes.split(/[ ,]+/) : [];
  console.log(await mintDevToken(config.auth.jwtSecret, { tenantId: values.tenant, roles, scopes, expiresIn: values.expires ?? '12h' }));
  return 0;
}

async function printSchema(config: Config, out: string | undefined, stdout: boolean): Promise<number> {
  const { printStrataSchema } = await import('./graphql/print.js');
  const { printOnlyExtensions } = await import('./schema-extensions.js');
  const model = await loadModelFromDir(config.modelsDir);
  const sdl = printStrataSchema(model, printOnlyExtensions(model));
  if (stdout) process.stdout.write(sdl);
  else {
    const file = out ?? 'schema/schema.graphql';
    writeFileSync(file, sdl);
    console.log(`wrote ${file}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    if (e instanceof UserError || e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      process.exit(e instanceof ConfigError ? 78 : 1);
    }
    console.error(e);
    process.exit(1);
  },
);
