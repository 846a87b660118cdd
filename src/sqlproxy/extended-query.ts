/**
 * The extended query protocol: Parse/Bind/Describe/Execute/Close/Sync over named and unnamed
 * prepared statements and portals. A portal's result is computed once (at Describe or the first
 * Execute) and sent in slices of Execute's row limit (PortalSuspended). After an error every
 * message is skipped until Sync; Sync answers ReadyForQuery (and, outside a transaction block,
 * drops the portals). Flush is handled by connection.ts.
 */
import { BodyReader, msg } from './codec.js';
import { parseQuery } from './parse.js';
import type { Portal, Result, Session } from './session-state.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { positionMapper } from './translate/ast.js';

/** Runs one extended-protocol message; an error is answered, fails the transaction and skips until Sync. */
export async function extended(s: Session, step: () => Promise<void>): Promise<void> {
  try {
    s.checkExpiry();
    await step();
  } catch (e) {
    s.wire.sendError(e);
    s.failTransaction();
    s.skipUntilSync = true;
  }
}

export function sync(s: Session): void {
  s.skipUntilSync = false;
  // Outside a transaction block, Sync ends the implicit transaction and its portals.
  if (s.tx === 'I') s.portals.clear();
  s.wire.send(msg.readyForQuery(s.tx));
  s.wire.flush();
}

export async function parse(s: Session, body: Buffer): Promise<void> {
  const r = new BodyReader(body);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  const oids: number[] = [];
  for (let i = 0; i < n; i++) oids.push(r.uint32());
  if (name && s.statements.has(name)) throw new SqlError(SQLSTATE.DUPLICATE_PSTATEMENT, `prepared statement "${name}" already exists`);
  const parsed = parseQuery(sql);
  if (parsed.statements.length > 1) throw new SqlError(SQLSTATE.SYNTAX, 'cannot insert multiple commands into a prepared statement');
  s.statements.set(name, { name, sql, stmt: parsed.statements[0], paramOids: oids });
  s.wire.send(msg.parseComplete());
}

export async function bind(s: Session, body: Buffer): Promise<void> {
  const r = new BodyReader(body);
  const portalName = r.cstring();
  const stmtName = r.cstring();
  const prepared = s.statements.get(stmtName);
  if (!prepared) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${stmtName}" does not exist`);
  const paramFormats: number[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) paramFormats.push(r.int16());
  const values: (Buffer | null)[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) {
    const len = r.int32();
    values.push(len < 0 ? null : Buffer.from(r.bytes(len)));
  }
  const resultFormats: number[] = [];
  for (let i = 0, n = r.int16(); i < n; i++) resultFormats.push(r.int16());
  if (portalName && s.portals.has(portalName)) throw new SqlError('42P03', `cursor "${portalName}" already exists`);
  s.portals.set(portalName, { name: portalName, prepared, values, paramFormats, resultFormats, sent: 0, described: false });
  s.wire.send(msg.bindComplete());
}

export async function describe(s: Session, body: Buffer): Promise<void> {
  const r = new BodyReader(body);
  const kind = r.byte();
  const name = r.cstring();
  if (kind === 'S') {
    const prepared = s.statements.get(name);
    if (!prepared) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${name}" does not exist`);
    const { paramOids, rowDescription } = await s.executor.describeStatement(prepared);
    s.wire.send(msg.parameterDescription(paramOids));
    s.wire.send(rowDescription ?? msg.noData());
    return;
  }
  const portal = s.portals.get(name);
  if (!portal) throw new SqlError(SQLSTATE.INVALID_CURSOR, `portal "${name}" does not exist`);
  const result = await portalResult(s, portal);
  portal.described = true;
  s.wire.send(result.rowDescription ?? msg.noData());
}

export async function execute(s: Session, body: Buffer): Promise<void> {
  const r = new BodyReader(body);
  const name = r.cstring();
  const maxRows = r.int32();
  const portal = s.portals.get(name);
  if (!portal) throw new SqlError(SQLSTATE.INVALID_CURSOR, `portal "${name}" does not exist`);
  if (!portal.prepared.stmt) {
    s.wire.send(msg.emptyQuery());
    return;
  }
  const result = await portalResult(s, portal);
  if (portal.sent === 0 && result.before) for (const b of result.before) s.wire.send(b);
  const end = maxRows > 0 ? Math.min(result.rows.length, portal.sent + maxRows) : result.rows.length;
  for (let i = portal.sent; i < end; i++) s.wire.send(result.rows[i]);
  portal.sent = end;
  if (maxRows > 0 && end < result.rows.length) {
    s.wire.send(msg.portalSuspended());
    return;
  }
  s.wire.send(msg.commandComplete(result.tag));
  // The unnamed portal is dropped at the next Bind; named portals live until Close/Sync of tx.
}

export async function closeMessage(s: Session, body: Buffer): Promise<void> {
  const r = new BodyReader(body);
  const kind = r.byte();
  const name = r.cstring();
  if (kind === 'S') s.statements.delete(name);
  else s.portals.delete(name);
  s.wire.send(msg.closeComplete());
}

async function portalResult(s: Session, portal: Portal): Promise<Result> {
  if (portal.result) return portal.result;
  const prepared = portal.prepared;
  if (!prepared.stmt) return (portal.result = { rowDescription: null, rows: [], tag: '' });
  const oids =
    prepared.paramOids.length >= portal.values.length
      ? prepared.paramOids
      : [...prepared.paramOids, ...new Array(portal.values.length - prepared.paramOids.length).fill(0)];
  portal.result = await s.executor.run(
    prepared.stmt,
    positionMapper(prepared.sql),
    portal.values,
    portal.paramFormats,
    oids,
    portal.resultFormats,
    0,
    prepared,
  );
  return portal.result;
}
