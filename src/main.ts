/**
 * Strata CLI: serve, migrate, seed, validate-models, query, sql, token, tenant create, print-schema.
 * Usage: npx strata <command> [options]   (or npm run strata -- <command>); `strata <command> --help`.
 * What each command accepts lives in cli/commands.ts; a command-line mistake is one line on stderr
 * and exit code 2, a configuration error exit 78, any other failure exit 1.
 */
import { writeFileSync } from 'node:fs';
import { ROLE_SCOPES, SCOPES, TENANT_ID_PATTERN, expandScopes, type Principal } from './auth/principal.js';
import { commandHelp, parseCommandArgs, UsageError, type ParsedArgs } from './cli/args.js';
import { COMMANDS, findCommand, GROUPS, groupHelp, mainHelp } from './cli/commands.js';
import { findRunningServer, isDataDirLocked, type RunningServerInfo } from './cli/running-server.js';
import { renderTable } from './cli/table.js';
import type { Config } from './config.js';
import { isIsoDate } from './demo/window.js';
import { createRequestContext } from './edge/context.js';
import { ModelError, UserError } from './errors.js';
import { suggest } from './semantic/suggest.js';
import type { SemanticQuery } from './semantic/query.js';
import type { Model } from './semantic/model.js';

// Everything heavier (zod, pino, the services) is imported when a command runs, so --help and
// usage errors answer at once; the bundle (scripts/build-cli.mjs) keeps these imports lazy.
const services = () => import('./services.js');
const logger = () => import('./logger.js');

type Values = ParsedArgs['values'];

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest.join(' ') : '';
    if (topic && GROUPS[topic]) process.stdout.write(groupHelp(topic));
    else if (topic) process.stdout.write(commandHelp(resolveCommand(topic.split(' ')).spec));
    else process.stdout.write(mainHelp());
    return 0;
  }
  if (GROUPS[first] && (rest[0] === '--help' || rest[0] === '-h')) {
    process.stdout.write(groupHelp(first));
    return 0;
  }
  const { spec, args } = resolveCommand(argv);
  const parsed = parseCommandArgs(spec, args);
  if (parsed.help) {
    process.stdout.write(commandHelp(spec));
    return 0;
  }
  const { values, positionals } = parsed;
  const { loadConfig } = await import('./config.js');
  const config = loadConfig();
  switch (spec.name) {
    case 'serve': {
      const { serve } = await import('./server.js');
      await serve(config);
      return -1; // keep running
    }
    case 'migrate': {
      const { createServices } = await services();
      const all = await createServices(config, { seed: false });
      await all.close();
      console.log('migrations applied (ClickHouse and Postgres)');
      return 0;
    }
    case 'seed':
      return seed(config, values);
    case 'validate-models':
      return validate(config);
    case 'query':
    case 'sql':
      return runQuery(config, spec.name, values, positionals.json ?? '');
    case 'token':
      return token(config, values);
    case 'tenant create':
      return createTenant(config, positionals.id ?? '', values);
    case 'mcp':
      return mcp(config);
    case 'print-schema':
      return printSchema(config, values.out as string | undefined, Boolean(values.stdout));
    default:
      throw new Error(`command ${spec.name} has no handler`);
  }
}

/** argv -> the command spec and its remaining arguments ("tenant create x" -> tenant create, [x]). */
function resolveCommand(argv: readonly string[]): { spec: (typeof COMMANDS)[number]; args: string[] } {
  const [first, ...rest] = argv;
  if (GROUPS[first]) {
    const [sub, ...args] = rest;
    const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1));
    if (!sub || sub.startsWith('-')) throw new UsageError(`missing subcommand (${subs.join(', ')})`, first);
    const spec = findCommand(`${first} ${sub}`);
    if (!spec) throw new UsageError(`unknown subcommand "${sub}"${didYouMean(sub, subs)}`, first);
    return { spec, args };
  }
  const spec = findCommand(first);
  if (!spec)
    throw new UsageError(
      `unknown command "${first}"${didYouMean(
        first,
        COMMANDS.map((c) => c.name.split(' ')[0]),
      )}`,
      '',
    );
  return { spec, args: rest };
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = suggest(word, candidates);
  return guess ? ` (did you mean "${guess}"?)` : '';
}

async function seed(config: Config, values: Values): Promise<number> {
  const scale = values.scale === undefined ? config.demo.scale : Number(values.scale);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new UsageError(`--scale must be a positive number, got "${values.scale}"`, 'seed');
  const seedValue = values.seed === undefined ? undefined : Number(values.seed);
  if (seedValue !== undefined && !(Number.isSafeInteger(seedValue) && seedValue >= 0)) {
    throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`, 'seed');
  }
  const endDate = (values['end-date'] as string | undefined) ?? config.demo.endDate;
  if (endDate !== undefined && !isIsoDate(endDate)) throw new UsageError(`--end-date must be a date YYYY-MM-DD, got "${endDate}"`, 'seed');
  const { seedDemo } = await import('./demo/seed.js');
  const { createCoreServices } = await services();
  const core = await createCoreServices(config, { seed: false, rollups: false });
  try {
    const started = Date.now();
    const { rows, window } = await seedDemo(core.engine, { scale, seed: seedValue, endDate });
    // The seed removed rows no marker view saw: the next start builds every rollup again.
    await (await import('./rollups/warehouse.js')).forgetRollups(core.engine);
    console.log(renderTable(['table', 'rows'], Object.entries(rows)));
    console.log(`seeded ${window.start} .. ${window.end} in ${Date.now() - started} ms`);
    return 0;
  } finally {
    await core.close();
  }
}

async function validate(config: Config): Promise<number> {
  const [{ readModelFiles }, { validateModel }] = await Promise.all([import('./model-files.js'), import('./semantic/load.js')]);
  const files = await readModelFiles(config.modelsDir);
  const { model, problems } = validateModel(files);
  if (problems.length > 0) {
    console.error(new ModelError(problems).message);
    return 1;
  }
  const cubes = Object.values(model.cubes);
  const rows = cubes.map((c) => [
    c.name,
    Object.keys(c.measures).length,
    Object.keys(c.dimensions).length,
    Object.keys(c.segments).length,
    c.tenant.kind === 'shared' ? 'shared' : c.tenant.column,
  ]);
  for (const v of Object.values(model.views)) rows.push([`${v.name} (view)`, Object.keys(v.members).length, '', '', 'via cubes']);
  console.log(renderTable(['cube', 'measures', 'dimensions', 'segments', 'tenant'], rows));
  const rollups = await rollupRows(model);
  if (rollups.length > 0) {
    console.log('\nRollups (pre_aggregations): what each answers from its own table; every other query reads the cube');
    console.log(renderTable(['rollup', 'time', 'dimensions', 'measures answered', 'other measures, and why not'], rollups));
  }
  console.log(`${files.length} files, ${cubes.length} cubes, ${Object.keys(model.views).length} views: OK`);
  return 0;
}

/** One row per rollup: its grain, dimensions, the measures it answers, and why the cube's others are not. */
async function rollupRows(model: Model): Promise<(string | number)[][]> {
  const [{ shapeOf }, { rollupRefusal }] = await Promise.all([import('./compiler/rollup/route.js'), import('./semantic/rollups.js')]);
  return Object.values(model.cubes).flatMap((cube) =>
    (cube.preAggregations ?? []).map((pre) => {
      const served = shapeOf(model, pre).served;
      const others = Object.values(cube.measures)
        .filter((m) => m.public && !served.has(m.name))
        .map((m) => {
          const why = rollupRefusal(model, cube, m);
          return why ? `${m.name} (${why.split(/[:;]/)[0]})` : `${m.name} (not listed)`;
        });
      return [
        `${cube.name}.${pre.name}`,
        pre.timeDimension ? `${pre.timeDimension} by ${pre.granularity}` : '—',
        pre.dimensions.join(', ') || '—',
        served.size,
        others.join(', ') || '—',
      ];
    }),
  );
}

function list(text: unknown): string[] {
  return typeof text === 'string' ? text.split(/[ ,]+/).filter(Boolean) : [];
}

function cliPrincipal(values: Values, command: string): Principal {
  const tenantId = String(values.tenant);
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new UsageError(`--tenant "${tenantId}" is not a tenant id (lower-case letters, digits, "-" and "_", e.g. acme)`, command);
  }
  const roles = list(values.roles);
  const unknown = roles.filter((r) => !ROLE_SCOPES[r]);
  if (unknown.length) throw new UsageError(`unknown role "${unknown[0]}" (roles: ${Object.keys(ROLE_SCOPES).join(', ')})`, command);
  const scopes = values.scopes ? list(values.scopes) : roles.length ? [] : Object.values(SCOPES);
  return { tenantId, scopes: expandScopes(scopes, roles), subject: 'cli', via: 'cli', roles };
}

async function runQuery(config: Config, command: 'query' | 'sql', values: Values, text: string): Promise<number> {
  const principal = cliPrincipal(values, command);
  let query: SemanticQuery;
  try {
    query = JSON.parse(text) as SemanticQuery;
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `query is not valid JSON: ${(e as Error).message}`);
  }
  // Embedded ClickHouse opens DATA_DIR in one process only: beside a running server, ask it.
  const running = config.clickhouse.url ? undefined : findRunningServer(config.dataDir);
  if (running) return queryThroughServer(config, running, command, principal, values, query);
  const quiet = { ...config, logLevel: 'warn' } as Config;
  const [{ createCoreServices }, { createLogger }] = await Promise.all([services(), logger()]);
  let core: Awaited<ReturnType<typeof createCoreServices>>;
  try {
    // One query: building rollups would cost more than it saves (a server builds and keeps them).
    core = await createCoreServices(quiet, { logger: createLogger('warn'), rollups: false });
  } catch (e) {
    if (!isDataDirLocked(e)) throw e;
    throw new UserError(
      'BAD_USER_INPUT',
      `DATA_DIR ${config.dataDir} is held by another process (a \`strata serve\` or \`strata seed\` on it?): stop it, or start the server with this DATA_DIR so the CLI can go through it`,
    );
  }
  try {
    if (command === 'sql') {
      const { compiled } = core.query.compile(principal, query);
      console.log(compiled.sql);
      console.log(JSON.stringify(compiled.params, null, 2));
      return 0;
    }
    const ctx = createRequestContext({ door: 'cli', principal, requestId: 'cli' });
    const result = await core.query.load(ctx, query);
    if (values.json) {
      console.log(JSON.stringify(result.rows, null, 2));
    } else {
      const keys = result.columns.map((c) => c.key);
      console.log(
        renderTable(
          keys,
          result.rows.map((r) => keys.map((k) => r[k])),
        ),
      );
      if (result.total !== undefined) console.log(`total: ${result.total}`);
    }
    return 0;
  } finally {
    await core.close();
  }
}

/**
 * query/sql through the running server's Cube REST API, as the tenant, with a short-lived token
 * signed with the configured JWT_SECRET (the same principal the embedded path would use).
 */
async function queryThroughServer(
  config: Config,
  running: RunningServerInfo,
  command: 'query' | 'sql',
  principal: Principal,
  values: Values,
  query: SemanticQuery,
): Promise<number> {
  const held = `DATA_DIR ${config.dataDir} is held by the server at ${running.url} (pid ${running.pid})`;
  if (!config.auth.jwtSecret) throw new UserError('BAD_USER_INPUT', `${held}: set JWT_SECRET to its secret so the CLI can ask it, or stop it`);
  const { mintDevToken } = await import('./auth/jwt.js');
  const jwt = await mintDevToken(config.auth.jwtSecret, {
    tenantId: principal.tenantId,
    scopes: [...principal.scopes],
    expiresIn: '5m',
    subject: 'cli',
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  let res: Response;
  try {
    res = await fetch(`${running.url}/cubejs-api/v1/${command === 'sql' ? 'sql' : 'load'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `${held}, which does not answer (${(e as Error).message}); is it starting or stopping?`);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string; data?: Record<string, unknown>[]; sql?: { sql?: [string, unknown] } };
  if (!res.ok) throw new UserError('BAD_USER_INPUT', `${body.error ?? res.statusText} (${body.code ?? res.status}; answered by the server at ${running.url})`);
  if (command === 'sql') {
    const [sql, params] = body.sql?.sql ?? ['', {}];
    console.log(sql);
    console.log(JSON.stringify(params, null, 2));
    return 0;
  }
  const rows = body.data ?? [];
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    const keys = rows.length ? Object.keys(rows[0]) : [...(query.dimensions ?? []), ...(query.measures ?? [])];
    console.log(
      renderTable(
        keys,
        rows.map((r) => keys.map((k) => r[k])),
      ),
    );
  }
  return 0;
}

async function token(config: Config, values: Values): Promise<number> {
  const { mintDevToken } = await import('./auth/jwt.js');
  if (!config.auth.jwtSecret) throw new UserError('BAD_USER_INPUT', 'JWT_SECRET is not set (tokens from JWKS issuers cannot be minted here)');
  const roles = values.roles ? list(values.roles) : values.scopes ? [] : ['analyst'];
  const unknown = roles.filter((r) => !ROLE_SCOPES[r]);
  if (unknown.length) throw new UsageError(`unknown role "${unknown[0]}" (roles: ${Object.keys(ROLE_SCOPES).join(', ')})`, 'token');
  const jwt = await mintDevToken(config.auth.jwtSecret, {
    tenantId: String(values.tenant),
    roles,
    scopes: list(values.scopes),
    expiresIn: (values.expires as string | undefined) ?? '12h',
    subject: values.subject as string | undefined,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  console.log(jwt);
  return 0;
}

async function createTenant(config: Config, id: string, values: Values): Promise<number> {
  const { PLAN_LIMITS } = await import('./ratelimit/rate-limiter.js');
  const plan = (values.plan as string | undefined) ?? 'free';
  if (!PLAN_LIMITS[plan]) throw new UsageError(`--plan must be one of ${Object.keys(PLAN_LIMITS).join(', ')}, got "${plan}"`, 'tenant create');
  const [{ createStore }, { createLogger }] = await Promise.all([import('./store/store.js'), logger()]);
  const store = await createStore(config.postgres, createLogger(config.logLevel === 'silent' ? 'silent' : 'warn'));
  try {
    await store.migrate();
    const before = await store.tenants.get(id);
    const tenant = before ?? (await store.tenants.ensure({ id, name: (values.name as string | undefined) ?? id, plan }));
    let key: { id: string; name: string; scopes: readonly string[]; secret: string } | undefined;
    if (values['admin-key']) {
      const created = await store.apiKeys.create(tenant.id, {
        name: (values['key-name'] as string | undefined) ?? 'first admin key',
        scopes: [...ROLE_SCOPES.tenant_admin],
        createdBy: 'cli',
      });
      key = { id: created.key.id, name: created.key.name, scopes: created.key.scopes, secret: created.secret };
    }
    if (values.json) {
      console.log(
        JSON.stringify({ tenant: { id: tenant.id, name: tenant.name, plan: tenant.plan, status: tenant.status }, created: !before, apiKey: key }, null, 2),
      );
      return 0;
    }
    console.log(
      before
        ? `tenant ${tenant.id} already exists (unchanged: "${tenant.name}", plan ${tenant.plan})`
        : `created tenant ${tenant.id} ("${tenant.name}", plan ${tenant.plan})`,
    );
    if (key) {
      console.log(`API key "${key.name}" (id ${key.id}; scopes ${key.scopes.join(' ')}):`);
      console.log(`  ${key.secret}`);
      console.log('Store it now: the secret is shown only this once. Send it as `Authorization: Bearer <key>`, or use it as the SQL proxy password.');
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** `strata mcp`: MCP over stdio, relayed to a running server or served in-process (src/mcp/stdio.ts). */
async function mcp(config: Config): Promise<number> {
  const token = config.mcp.token;
  if (!token) throw new UsageError('set STRATA_TOKEN to a JWT or an API key (e.g. STRATA_TOKEN=$(npx strata token --tenant acme))', 'mcp');
  const [{ createLogger }, stdio] = await Promise.all([logger(), import('./mcp/stdio.js')]);
  // stdout carries the protocol: logs go to stderr.
  const log = createLogger(config.logLevel === 'silent' ? 'silent' : 'warn', process.stderr);
  const url = config.mcp.serverUrl ?? (config.clickhouse.url ? undefined : findRunningServer(config.dataDir)?.url);
  if (url) {
    await stdio.relayStdio(url, token, log);
    return 0;
  }
  const { createServices } = await services();
  const all = await createServices(config, { logger: log });
  try {
    await stdio.serveStdio(
      { query: all.query, savedQueries: all.store.savedQueries, dashboards: all.store.dashboards, authenticator: all.authenticator, logger: log },
      token,
    );
    return 0;
  } finally {
    await all.close();
  }
}

async function printSchema(config: Config, out: string | undefined, stdout: boolean): Promise<number> {
  const { printStrataSchema } = await import('./graphql/print.js');
  const { printOnlyExtensions } = await import('./schema-extensions.js');
  const { loadModelFromDir } = await services();
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
    if (e instanceof UsageError) {
      const where = e.command ? `strata ${e.command}` : 'strata';
      console.error(`${where}: ${e.message}. See '${where} --help'.`);
      process.exit(2);
    }
    if (e instanceof Error && e.name === 'ConfigError') {
      // by name: config.ts (zod) is loaded lazily
      console.error(`error (${(e as Error & { code?: string }).code ?? 'CONFIG_INVALID'}): ${e.message}`);
      process.exit(78);
    }
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      process.exit(1);
    }
    console.error(e);
    process.exit(1);
  },
);
