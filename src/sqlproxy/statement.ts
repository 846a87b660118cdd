/**
 * Statement execution: routes one parsed statement (router.ts) to the local commands
 * (local-commands.ts), the catalog engine (EMPTY tables, catalog-db.ts) or the semantic path
 * (translate/ -> QueryService.load, paged; compose/ when the translator cannot take it whole),
 * runs or describes it, and encodes its answer as a Result. Holds no state of its own: the
 * session's principal, settings, transaction status and running statement are in session-state.ts.
 */
import { createRequestContext } from '../edge/context.js';
import { ForbiddenError } from '../errors.js';
import type { SemanticQuery } from '../semantic/query.js';
import { type BackendMessage, catalogCompat, withSessionIdentity } from './catalog-db.js';
import { DATABASE_NAME } from './session.js';
import { BodyReader, frontend } from './codec.js';
import { type Composed, compose, needsCompose } from './compose/compose.js';
import type { ComposeContext } from './compose/types.js';
import type { ConnectionDeps } from './connection.js';
import { isTransactionEnd, local, showDescription } from './local-commands.js';
import { DEFAULT_ROW_LIMITS, loadAllRows } from './paged-load.js';
import type { ParsedStatement } from './parse.js';
import { type Cell, decodeParam, OID, type ParamValue } from './pg-types.js';
import { copyOut, copySource } from './copy-out.js';
import { catalogResult, decodeTextResult, encodeRow, rowDescription } from './result-encoding.js';
import { route } from './router.js';
import type { Prepared, Result, Session } from './session-state.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { type Node, type PositionOf, Positioned, positionMapper } from './translate/ast.js';
import { finish } from './translate/derived.js';
import { type SemanticPlan, translateSelect, UnknownColumnError } from './translate/select.js';
import type { ParamSource, ValueContext } from './translate/values.js';

/** Runs and describes the statements of one session. */
export class Executor {
  private readonly deps: ConnectionDeps;

  constructor(private readonly session: Session) {
    this.deps = session.deps;
  }

  private catalog() {
    return this.session.catalog();
  }

  /** Who asks a catalog query: the login name, and Strata's one database. */
  private identity() {
    return { user: this.session.user, database: DATABASE_NAME };
  }

  /** Describe of a prepared statement: its parameter types and RowDescription (a semantic one is translated, not run). */
  async describeStatement(prepared: Prepared): Promise<{ paramOids: number[]; rowDescription: Buffer | null }> {
    const stmt = prepared.stmt;
    if (!stmt) return { paramOids: [], rowDescription: null };
    const catalog = this.catalog();
    const position = positionMapper(prepared.sql);
    const r = route(stmt, catalog, position);
    switch (r.kind) {
      case 'refused':
        throw r.error;
      case 'local':
        return { paramOids: [], rowDescription: stmt.kind === 'VariableShowStmt' ? showDescription(this.session, stmt.node) : null };
      case 'catalog': {
        const engine = await this.deps.engines.forCatalog(catalog);
        const out = await engine.run([
          frontend.parse('', catalogCompat(withSessionIdentity(stmt, this.identity())), prepared.paramOids),
          frontend.describe('S', ''),
        ]);
        const t = out.find((m) => m.type === 't');
        const paramOids: number[] = [];
        if (t) {
          const br = new BodyReader(t.body);
          for (let i = 0, n = br.int16(); i < n; i++) paramOids.push(br.uint32());
        }
        const rd = out.find((m) => m.type === 'T');
        return { paramOids, rowDescription: rd ? rd.raw : null };
      }
      case 'semantic': {
        const expected = new Map<number, number>();
        const params: ParamSource = {
          value: () => undefined,
          expect: (n, oid) => {
            if (!expected.has(n)) expected.set(n, oid);
          },
          count: 0,
          bound: false,
        };
        const answer = await this.semantic(r.select, params, position, false);
        const count = Math.max(prepared.paramOids.length, ...expected.keys(), 0);
        const paramOids: number[] = [];
        for (let i = 1; i <= count; i++) paramOids.push(prepared.paramOids[i - 1] || expected.get(i) || OID.text);
        prepared.inferred = paramOids;
        if (answer.kind === 'plan') return { paramOids, rowDescription: rowDescription(answer.plan, []) };
        const out = await this.postEngine(answer, [frontend.parse('', answer.sql, []), frontend.describe('S', '')]);
        const rd = out.find((m) => m.type === 'T');
        return { paramOids, rowDescription: rd ? rd.raw : null };
      }
    }
  }

  /** Runs one statement to completion and encodes its rows. */
  async run(
    stmt: ParsedStatement,
    position: (loc: number | undefined) => number | undefined,
    values: readonly (Buffer | null)[],
    paramFormats: readonly number[],
    paramOids: readonly number[],
    resultFormats: readonly number[],
    offset: number,
    prepared?: Prepared,
  ): Promise<Result> {
    if (this.session.tx === 'E' && !isTransactionEnd(stmt.node)) {
      throw new SqlError(SQLSTATE.IN_FAILED_TX, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    if (stmt.kind === 'CopyStmt') {
      // COPY (SELECT …) TO STDOUT: the SELECT runs like any statement, its text rows become COPY data.
      const { inner, options } = await copySource(stmt);
      return copyOut(await this.run(inner, () => undefined, values, paramFormats, paramOids, [], 0, prepared), options);
    }
    const catalog = this.catalog();
    const r = route(stmt, catalog, position);
    const started = Date.now();
    switch (r.kind) {
      case 'refused':
        throw r.error;
      case 'local':
        return local(this.session, stmt.node, resultFormats);
      case 'catalog': {
        const engine = await this.deps.engines.forCatalog(catalog);
        const formats = paramFormats.length ? paramFormats : [];
        const out = await engine.run(
          [
            frontend.parse('', catalogCompat(withSessionIdentity(stmt, this.identity())), paramOids),
            frontend.bind('', '', formats, values, resultFormats),
            frontend.describe('P', ''),
            frontend.execute('', 0),
          ],
          offset,
        );
        this.deps.logger.debug({ pid: this.session.pid, route: 'catalog', ms: Date.now() - started, sql: stmt.text.slice(0, 200) }, 'sqlproxy statement');
        return catalogResult(out);
      }
      case 'semantic': {
        const decoded = this.decodeParams(values, paramFormats, paramOids, prepared);
        const params: ParamSource = {
          value: (n) => (n <= decoded.length ? decoded[n - 1] : undefined),
          expect: () => {},
          count: decoded.length,
          bound: true,
        };
        const answer = await this.semantic(r.select, params, position, true);
        if (answer.kind === 'engine') {
          const out = await this.postEngine(answer, [
            frontend.parse('', answer.sql, []),
            frontend.bind('', '', [], [], resultFormats),
            frontend.describe('P', ''),
            frontend.execute('', 0),
          ]);
          this.deps.logger.debug({ pid: this.session.pid, route: 'composed', ms: Date.now() - started, leaves: answer.tables.length }, 'sqlproxy statement');
          return catalogResult(out);
        }
        const plan = answer.plan;
        const rows = await this.rowsOf(plan, position);
        const result: Result = {
          rowDescription: rowDescription(plan, resultFormats),
          rows: rows.map((row) => encodeRow(plan, row, resultFormats)),
          tag: `SELECT ${rows.length}`,
        };
        this.deps.logger.debug({ pid: this.session.pid, route: 'semantic', ms: Date.now() - started, rows: rows.length }, 'sqlproxy statement');
        return result;
      }
    }
  }

  private decodeParams(values: readonly (Buffer | null)[], formats: readonly number[], oids: readonly number[], prepared?: Prepared): ParamValue[] {
    return values.map((v, i) => {
      const format = formats.length === 1 ? formats[0] : (formats[i] ?? 0);
      const oid = oids[i] || prepared?.inferred?.[i] || 0;
      if (format === 1 && !oid) throw new SqlError(SQLSTATE.PROTOCOL_VIOLATION, `binary parameter $${i + 1} has no declared type`);
      return decodeParam(oid, format, v);
    });
  }

  /** Clock, zone and positions for the expressions finished over loaded rows (translate/post.ts). */
  private valueContext(position: (loc: number | undefined) => number | undefined): ValueContext {
    const noParams: ParamSource = { value: () => undefined, expect: () => {}, count: 0, bound: true };
    return { at: new Positioned(position), params: noParams, now: new Date(), timezone: this.session.settings.get('TimeZone') ?? 'UTC' };
  }

  /** A semantic plan's rows: paged through the query service, then finished (post mode). */
  private async rowsOf(plan: SemanticPlan, position: PositionOf): Promise<readonly Readonly<Record<string, Cell>>[]> {
    const loaded = plan.empty && !plan.post ? [] : await loadAllRows(plan.query, this.deps.rowLimits ?? DEFAULT_ROW_LIMITS, (q) => this.load(q));
    return plan.post ? finish(plan.post, plan.empty ? [] : loaded, this.valueContext(position)) : loaded;
  }

  /**
   * A statement over cubes: one semantic plan when the translator takes it whole; otherwise, when it
   * has parts only compose answers (WITH, UNION, windows, subqueries, JOIN … ON), composed.
   */
  private async semantic(select: Node, params: ParamSource, position: PositionOf, loading: boolean): Promise<Composed> {
    try {
      return { kind: 'plan', plan: this.translate(select, params, position) };
    } catch (e) {
      if (!(e instanceof SqlError) || e.code !== SQLSTATE.NOT_SUPPORTED || !needsCompose(select)) throw e;
    }
    const ctx: ComposeContext = {
      catalog: this.catalog(),
      at: new Positioned(position),
      loading,
      translate: (s) => this.translate(s, params, position),
      evaluate: async (s) => {
        const plan = this.translate(s, params, position);
        if (!loading) return { plan, rows: [] };
        const rows = await this.rowsOf(plan, position);
        return { plan, rows: planCells(plan, rows) };
      },
      evaluateComposed: async (s) => {
        const inner = await this.semantic(s, params, position, loading);
        if (!loading) return { oids: [], rows: [] };
        if (inner.kind === 'plan') {
          return { oids: inner.plan.columns.map((c) => c.oid), rows: planCells(inner.plan, await this.rowsOf(inner.plan, position)) };
        }
        return decodeTextResult(
          await this.postEngine(inner, [
            frontend.parse('', inner.sql, []),
            frontend.bind('', '', [], [], []),
            frontend.describe('P', ''),
            frontend.execute('', 0),
          ]),
        );
      },
    };
    return compose(select, ctx, { param: (n) => params.value(n), expect: (n, oid) => params.expect(n, oid), maxRows: this.deps.rowLimits?.composedRows });
  }

  /** Runs a composed statement's post-engine part over its leaves' rows. */
  private async postEngine(answer: Extract<Composed, { kind: 'engine' }>, messages: Buffer[]): Promise<BackendMessage[]> {
    const engine = await this.deps.engines.forCatalog(this.catalog());
    return engine.runOverRows(answer.tables, messages);
  }

  private translate(select: Node, params: ParamSource, position: (loc: number | undefined) => number | undefined): SemanticPlan {
    try {
      return translateSelect(select, {
        catalog: this.catalog(),
        params,
        now: new Date(),
        timezone: this.session.settings.get('TimeZone') ?? 'UTC',
        position,
      });
    } catch (e) {
      if (e instanceof UnknownColumnError && e.memberPath) throw this.probeForbidden(e);
      throw e;
    }
  }

  /** A column the caller cannot see may exist behind a scope: report 42501 rather than 42703. */
  private probeForbidden(e: UnknownColumnError): SqlError {
    const path = e.memberPath!;
    const probes: SemanticQuery[] = [{ measures: [path] }, { dimensions: [path] }, { segments: [path] }];
    for (const q of probes) {
      try {
        this.deps.query.compile(this.session.principal!, q);
      } catch (err) {
        if (err instanceof ForbiddenError) {
          // A refusal: into the tenant's audit trail like every door's (the query service records it).
          this.deps.query.refused?.(
            createRequestContext({
              door: 'sqlproxy',
              principal: this.session.principal!,
              clientAddress: this.session.clientAddress,
              userAgent: this.session.settings.get('application_name') || undefined,
            }),
            err,
            'query',
          );
          const [table, column] = [path.slice(0, path.indexOf('.')), path.slice(path.indexOf('.') + 1)];
          return new SqlError(SQLSTATE.INSUFFICIENT_PRIVILEGE, `permission denied for column "${column}" of relation "${table}"`, e.position);
        }
      }
    }
    return e;
  }

  private async load(query: SemanticQuery) {
    const controller = new AbortController();
    this.session.running = controller;
    const ctx = createRequestContext({
      door: 'sqlproxy',
      principal: this.session.principal!,
      clientAddress: this.session.clientAddress,
      userAgent: this.session.settings.get('application_name') || undefined,
      signal: controller.signal,
    });
    const cancelled = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new SqlError(SQLSTATE.QUERY_CANCELED, 'canceling statement due to user request')), {
        once: true,
      });
    });
    const loading = this.deps.query.load(ctx, query);
    loading.catch(() => undefined);
    cancelled.catch(() => undefined);
    try {
      const result = await Promise.race([loading, cancelled]);
      return result.rows;
    } finally {
      if (this.session.running === controller) this.session.running = undefined;
    }
  }
}

/** A plan's rows as cells in its column order (constants included). */
function planCells(plan: SemanticPlan, rows: readonly Readonly<Record<string, Cell>>[]): Cell[][] {
  return rows.map((row) => plan.columns.map((c) => (c.source.kind === 'constant' ? c.source.value : (row[c.source.key] ?? null))));
}
