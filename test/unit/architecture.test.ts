/**
 * Executable architecture: the dependency rules (as data in test/architecture/rules.ts), checked
 * over src/ with imports read by the TypeScript parser.
 */
import { describe, expect, it } from 'vitest';
import { checkSources, formatViolations, importsOf, readSourceTree, type Violation } from '../architecture/checker.js';
import { RULES } from '../architecture/rules.js';

describe('src/ keeps the dependency rules', () => {
  it('has no import that breaks them', () => {
    const files = readSourceTree('src');
    expect(Object.keys(files).length).toBeGreaterThan(100);
    const violations = checkSources(files, RULES);
    // On failure: one line per violation with src/file:line, the rule and what is allowed instead.
    expect(formatViolations(violations), `${violations.length} architecture violation(s)`).toBe('');
  });

  it('knows every module it names', () => {
    const names = new Set(RULES.modules.map((m) => m.name));
    for (const m of RULES.modules)
      if (m.imports !== '*') for (const target of Object.keys(m.imports)) expect(names, `${m.name} -> ${target}`).toContain(target);
    for (const [pkg, homes] of Object.entries(RULES.packageHomes)) for (const h of homes) expect(names, `${pkg} -> ${h}`).toContain(h);
  });
});

describe('the checker', () => {
  const check = (files: Record<string, string>): Pick<Violation, 'file' | 'rule'>[] => checkSources(files, RULES).map(({ file, rule }) => ({ file, rule }));

  it('accepts what the rules allow', () => {
    expect(
      check({
        'errors.ts': 'export class UserError extends Error {}',
        'semantic/model.ts': "import { UserError } from '../errors.js';\nimport { parse } from 'yaml';\nexport type Model = {};",
        'compiler/compile.ts':
          "import type { Model } from '../semantic/model.js';\nimport { DateTime } from 'luxon';\nexport const compile = (m: Model, tenantId: string) => tenantId;",
        'query/query-service.ts': "import { compile } from '../compiler/compile.js';\nimport type { Engine } from '../engine/engine.js';",
        'engine/engine.ts': "import { createClient } from '@clickhouse/client';\nexport interface Engine {}",
        'rest/handler.ts': "import { createRequestContext } from '../edge/context.js';\nimport type { QueryService } from '../query/service.js';",
        'edge/context.ts': "import type { Principal } from '../auth/principal.js';",
        'auth/principal.ts': "import { jwtVerify } from 'jose';\nexport interface Principal {}",
        'config.ts': 'export const port = Number(process.env.PORT);',
      }),
    ).toEqual([]);
  });

  it('flags the compiler importing pg, node:fs or auth/principal', () => {
    expect(
      check({
        'compiler/compile.ts': "import pg from 'pg';\nimport { readFileSync } from 'node:fs';\nimport type { Principal } from '../auth/principal.js';",
        'auth/principal.ts': 'export interface Principal {}',
      }),
    ).toEqual([
      { file: 'compiler/compile.ts', rule: 'package-home' },
      { file: 'compiler/compile.ts', rule: 'builtin' },
      { file: 'compiler/compile.ts', rule: 'module-edge' },
    ]);
  });

  it('flags a door importing another door, and the edge importing a door', () => {
    const files = {
      'rest/handler.ts': "import { toGraphQLError } from '../graphql/errors.js';",
      'graphql/errors.ts': 'export const toGraphQLError = 1;',
      'sqlproxy/connection.ts': "import type { IngestHandler } from '../ingest/http.js';",
      'ingest/http.ts': 'export type IngestHandler = () => void;',
      'edge/context.ts': "import { REST_BASE_PATH } from '../rest/handler.js';",
    };
    expect(check(files)).toEqual([
      { file: 'edge/context.ts', rule: 'module-edge' },
      { file: 'rest/handler.ts', rule: 'door-to-door' },
      { file: 'sqlproxy/connection.ts', rule: 'door-to-door' },
    ]);
  });

  it('flags process.env outside config.ts, in any spelling', () => {
    expect(
      check({
        'query/query-service.ts': "const a = process.env.DEBUG;\nconst b = process['env'];\nconst { env } = process;",
        'live/hub.ts': "import { env } from 'node:process';",
      }).map((v) => `${v.file} ${v.rule}`),
    ).toEqual(['live/hub.ts process-env', 'query/query-service.ts process-env', 'query/query-service.ts process-env', 'query/query-service.ts process-env']);
  });

  it('flags a package outside its home, an unknown package and a value import across a type-only edge', () => {
    expect(
      check({
        'sqlproxy/catalog-worker.mjs': "import { PGlite } from '@electric-sql/pglite';",
        'live/live-service.ts': "import leftpad from 'left-pad';",
        'rest/admin.ts': "import { createStore } from '../store/store.js';",
        'store/store.ts': 'export const createStore = () => 1;',
      }),
    ).toEqual([
      { file: 'live/live-service.ts', rule: 'unknown-package' },
      { file: 'rest/admin.ts', rule: 'type-only' },
      { file: 'sqlproxy/catalog-worker.mjs', rule: 'package-home' },
    ]);
  });

  it('flags a file no rule covers', () => {
    expect(check({ 'playground/run.ts': 'export {};' })).toEqual([{ file: 'playground/run.ts', rule: 'unknown-file' }]);
  });

  it('reads every kind of import with the TypeScript parser, not text', () => {
    const { imports } = importsOf(
      'x.ts',
      [
        "import type { A } from './a.js';",
        "import { type B, type C } from './b.js';",
        "import { type D, e } from './d.js';",
        "export { f } from './f.js';",
        "export type { G } from './g.js';",
        "const h = await import('./h.js');",
        "type I = import('./i.js').I;",
        "const w = new URL('./worker.mjs', import.meta.url);",
        "const m = new URL('../../migrations/', import.meta.url);",
        "// import { nope } from 'pg';",
        'const s = "import x from \'pg\'";',
      ].join('\n'),
    );
    expect(imports.map((i) => [i.specifier, i.typeOnly])).toEqual([
      ['./a.js', true],
      ['./b.js', true],
      ['./d.js', false],
      ['./f.js', false],
      ['./g.js', true],
      ['./h.js', false],
      ['./i.js', true],
      ['./worker.mjs', false],
    ]);
  });
});
