/**
 * Checks source files against the dependency rules (rules.ts). Imports are read with the
 * TypeScript parser (static imports, `export … from`, dynamic `import()`, `require()`,
 * `import('x').T` types, `new URL('./x', import.meta.url)` worker files), never with regexes.
 *
 * `checkSources(files, rules)` takes file texts keyed by their path under src/, so the rules can
 * be tested on small in-memory trees; `readSourceTree(dir)` reads a real one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import type { EdgeKind, ModuleRule, Rules } from './rules.js';

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: 'unknown-file' | 'module-edge' | 'door-to-door' | 'type-only' | 'package-home' | 'unknown-package' | 'builtin' | 'process-env' | 'unresolved';
  readonly message: string;
}

export interface ImportRef {
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

const SOURCE_EXT = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Every import-like reference of one file. */
export function importsOf(fileName: string, text: string): { imports: ImportRef[]; envReads: number[] } {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const imports: ImportRef[] = [];
  const envReads: number[] = [];
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, at: ts.Node) => {
    if (spec && ts.isStringLiteralLike(spec)) imports.push({ specifier: spec.text, typeOnly, line: lineOf(at) });
  };
  const isProcess = (e: ts.Expression) => ts.isIdentifier(e) && e.text === 'process';

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import type {…}`, or `import { type A, type B }` (every binding a type). A bare import is a value.
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly, node);
      if (ts.isStringLiteralLike(node.moduleSpecifier) && /^(node:)?process$/.test(node.moduleSpecifier.text) && clause && !clause.isTypeOnly)
        envReads.push(lineOf(node));
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly ||
        (!!node.exportClause &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, node);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal as ts.Expression, true, node);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0], false, node);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      // new URL('./worker.mjs', import.meta.url): a file this one loads (worker threads).
      const [spec, base] = node.arguments ?? [];
      // Data files (migrations/...) are not dependencies.
      if (spec && base && ts.isStringLiteralLike(spec) && spec.text.startsWith('.') && SOURCE_EXT.test(spec.text) && base.getText(sf) === 'import.meta.url')
        add(spec, false, node);
    } else if (ts.isPropertyAccessExpression(node) && isProcess(node.expression) && node.name.text === 'env') {
      envReads.push(lineOf(node));
    } else if (
      ts.isElementAccessExpression(node) &&
      isProcess(node.expression) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === 'env'
    ) {
      envReads.push(lineOf(node));
    } else if (ts.isVariableDeclaration(node) && node.initializer && isProcess(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      // const { env } = process
      if (node.name.elements.some((e) => ((e.propertyName ?? e.name) as ts.Identifier).text === 'env')) envReads.push(lineOf(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { imports, envReads };
}

/** The module a path under src/ belongs to: the longest matching rule path. */
export function moduleOf(file: string, rules: Rules): ModuleRule | undefined {
  let best: { rule: ModuleRule; len: number } | undefined;
  for (const rule of rules.modules) {
    for (const p of rule.paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (hit && (!best || p.length > best.len)) best = { rule, len: p.length };
    }
  }
  return best?.rule;
}

/** "./x.js" from "query/query-service.ts" -> "query/x.ts" (the file that exists), or undefined outside src/. */
function resolveRelative(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  if (joined.startsWith('..')) return undefined;
  const candidates = [
    joined,
    joined.replace(/\.js$/, '.ts'),
    joined.replace(/\.mjs$/, '.mts'),
    joined.replace(/\.cjs$/, '.cts'),
    `${joined}.ts`,
    `${joined}/index.ts`,
  ];
  return candidates.find((c) => files.has(c)) ?? joined;
}

/** "@pothos/core/x" -> "@pothos/core", "chdb/connection" -> "chdb". */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function allowedEdge(rule: ModuleRule, target: string): EdgeKind | undefined {
  if (rule.imports === '*') return 'value';
  return Object.hasOwn(rule.imports, target) ? rule.imports[target] : undefined;
}

/** Checks file texts keyed by path relative to src/ ("query/query-service.ts"). */
export function checkSources(files: Readonly<Record<string, string>>, rules: Rules): Violation[] {
  const out: Violation[] = [];
  const names = new Set(Object.keys(files));
  for (const [file, text] of Object.entries(files)) {
    if (!SOURCE_EXT.test(file)) continue;
    const from = moduleOf(file, rules);
    if (!from) {
      out.push({
        file,
        line: 1,
        rule: 'unknown-file',
        message: `${file} belongs to no module of the rules table (test/architecture/rules.ts): add its folder with its allowed imports`,
      });
      continue;
    }
    const { imports, envReads } = importsOf(file, text);
    if (file !== rules.envReader) {
      for (const line of envReads)
        out.push({ file, line, rule: 'process-env', message: `process.env is read only by src/${rules.envReader}: take the value from Config` });
    }
    for (const imp of imports) {
      const v = (rule: Violation['rule'], message: string) => out.push({ file, line: imp.line, rule, message });
      if (imp.specifier.startsWith('.')) {
        const target = resolveRelative(file, imp.specifier, names);
        if (!target) {
          v('unresolved', `import "${imp.specifier}" leaves src/`);
          continue;
        }
        const to = moduleOf(target, rules);
        if (!to) {
          if (!names.has(target)) v('unresolved', `import "${imp.specifier}" resolves to ${target}, which is not in src/`);
          continue; // the target file is reported as unknown-file itself
        }
        if (to === from) continue;
        if (rules.exceptions.some((e) => e.from === file && e.to === target)) continue;
        if (from.kind === 'door' && to.kind === 'door') {
          v('door-to-door', `door ${from.name} imports door ${to.name} (${target}): doors never import each other; share it through a service or edge/`);
          continue;
        }
        const edge = allowedEdge(from, to.name);
        if (!edge) v('module-edge', `${from.name} may not import ${to.name} (${target}); allowed: ${describeAllowed(from)}`);
        else if (edge === 'type' && !imp.typeOnly)
          v('type-only', `${from.name} may import only types from ${to.name} (${target}): use \`import type\`, the value is injected`);
        continue;
      }
      if (BUILTINS.has(imp.specifier) || BUILTINS.has(imp.specifier.split('/')[0])) {
        const name = imp.specifier.startsWith('node:') ? imp.specifier : `node:${imp.specifier}`;
        if (from.builtins !== 'any' && !from.builtins.includes(name)) {
          v(
            'builtin',
            `${from.name} (${from.kind}) may not import ${name}${from.kind === 'core' ? ': the core does no I/O' : ''}; allowed: ${from.builtins.join(', ') || 'none'}`,
          );
        }
        continue;
      }
      const pkg = packageName(imp.specifier);
      const homes = rules.packageHomes[pkg];
      if (!homes) v('unknown-package', `package ${pkg} has no home in the rules (PACKAGE_HOMES in test/architecture/rules.ts): decide which folder owns it`);
      else if (!homes.includes(from.name))
        v('package-home', `${pkg} may be imported only in ${homes.map((h) => (h.includes('.') ? `src/${h}` : `src/${h}/`)).join(', ')}, not in ${from.name}`);
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function describeAllowed(rule: ModuleRule): string {
  if (rule.imports === '*') return 'anything';
  const entries = Object.entries(rule.imports);
  return entries.length ? entries.map(([m, k]) => (k === 'type' ? `${m} (types)` : m)).join(', ') : 'nothing of ours';
}

/** All source files under dir, keyed by their path relative to it (posix separators). */
export function readSourceTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!SOURCE_EXT.test(rel) || rel.endsWith('.d.ts')) continue;
    out[rel.split(path.sep).join('/')] = readFileSync(path.join(dir, rel), 'utf8');
  }
  return out;
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((x) => `src/${x.file}:${x.line}  [${x.rule}] ${x.message}`).join('\n');
}
