/**
 * The simple query protocol: one Query message, zero or more statements run in order (each
 * answered and flushed on its own), an error ending the rest and failing an open transaction
 * block, then ReadyForQuery with the transaction status.
 */
import { msg } from './codec.js';
import { parseQuery } from './parse.js';
import type { Session } from './session-state.js';
import { positionMapper } from './translate/ast.js';

export async function simpleQuery(s: Session, sql: string): Promise<void> {
  const { wire } = s;
  try {
    s.checkExpiry();
    const parsed = parseQuery(sql);
    if (!parsed.statements.length) {
      wire.send(msg.emptyQuery());
    }
    const position = positionMapper(sql);
    for (const stmt of parsed.statements) {
      const result = await s.executor.run(stmt, position, [], [], [], [], stmt.offset);
      if (result.before) for (const b of result.before) wire.send(b);
      if (result.rowDescription) wire.send(result.rowDescription);
      for (const row of result.rows) wire.send(row);
      wire.send(msg.commandComplete(result.tag));
      wire.flush();
    }
  } catch (e) {
    wire.sendError(e);
    s.failTransaction();
  }
  if (wire.isClosed()) return;
  wire.send(msg.readyForQuery(s.tx));
  wire.flush();
}
