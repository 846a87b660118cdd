/**
 * Statements answered locally, without any engine: SET/RESET, SHOW, BEGIN/START/COMMIT/ROLLBACK/
 * SAVEPOINT/RELEASE (the transaction status I/T/E), DISCARD and DEALLOCATE. The settings
 * themselves (names, defaults, validation) are in session.ts.
 */
import { msg } from './codec.js';
import { encodeBinary, OID } from './pg-types.js';
import { formatAt } from './result-encoding.js';
import { canonicalName, defaultSettings, isReported, validateSetting } from './session.js';
import type { Result, Session } from './session-state.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import type { Node } from './translate/ast.js';

export function local(s: Session, node: Node, formats: readonly number[]): Result {
  const kind = Object.keys(node)[0];
  const n = node[kind];
  switch (kind) {
    case 'TransactionStmt':
      return transaction(s, n);
    case 'VariableSetStmt':
      return set(s, n);
    case 'VariableShowStmt': {
      const [name, value] = show(s, n.name);
      return {
        rowDescription: msg.rowDescription([{ name, typeOid: OID.text, typeSize: -1, format: formatAt(formats, 0) }]),
        rows: [msg.dataRow([formatAt(formats, 0) ? encodeBinary(OID.text, value) : Buffer.from(value, 'utf8')])],
        tag: 'SHOW',
      };
    }
    case 'DiscardStmt':
      s.statements.clear();
      s.portals.clear();
      s.settings = defaultSettings(s.user, s.settings.get('application_name') ?? '');
      return { rowDescription: null, rows: [], tag: `DISCARD ${String(n.target ?? 'DISCARD_ALL').replace('DISCARD_', '')}` };
    case 'DeallocateStmt':
      if (n.isall || !n.name) {
        for (const k of [...s.statements.keys()]) if (k) s.statements.delete(k);
        return { rowDescription: null, rows: [], tag: 'DEALLOCATE ALL' };
      }
      if (!s.statements.delete(n.name)) throw new SqlError(SQLSTATE.UNDEFINED_PSTATEMENT, `prepared statement "${n.name}" does not exist`);
      return { rowDescription: null, rows: [], tag: 'DEALLOCATE' };
    default:
      throw new SqlError(SQLSTATE.NOT_SUPPORTED, `${kind} is not supported`);
  }
}

/** The RowDescription of a SHOW (Describe of a prepared SHOW). */
export function showDescription(s: Session, node: Node): Buffer {
  const [name] = show(s, node.VariableShowStmt.name);
  return msg.rowDescription([{ name, typeOid: OID.text, typeSize: -1, format: 0 }]);
}

/** Whether a statement ends a (failed) transaction block: the only ones run in state E. */
export function isTransactionEnd(node: Node): boolean {
  const t = node.TransactionStmt;
  return !!t && ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_ROLLBACK_TO'].includes(t.kind);
}

function show(s: Session, name: string): [string, string] {
  const lower = String(name).toLowerCase();
  if (lower === 'all') throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'SHOW ALL is not supported; SHOW one setting');
  if (lower === 'transaction isolation level' || lower === 'transaction_isolation') return ['transaction_isolation', 'read committed'];
  const canonical = canonicalName(lower);
  const value = canonical ? s.settings.get(canonical) : s.settings.get(lower);
  if (value === undefined) throw new SqlError(SQLSTATE.UNDEFINED_OBJECT, `unrecognized configuration parameter "${name}"`);
  return [canonical ?? lower, value];
}

function set(s: Session, n: Node): Result {
  const kind: string = n.kind;
  if (kind === 'VAR_SET_MULTI') return { rowDescription: null, rows: [], tag: 'SET' }; // SET TRANSACTION / SESSION CHARACTERISTICS
  if (kind === 'VAR_RESET_ALL') {
    s.settings = defaultSettings(s.user, s.settings.get('application_name') ?? '');
    return { rowDescription: null, rows: [], tag: 'RESET' };
  }
  const name = String(n.name);
  const canonical = canonicalName(name) ?? (name === 'timezone' ? 'TimeZone' : undefined);
  const defaults = defaultSettings(s.user, '');
  let value: string;
  if (kind === 'VAR_SET_DEFAULT' || kind === 'VAR_RESET') value = canonical ? (defaults.get(canonical) ?? '') : '';
  else if (kind === 'VAR_SET_CURRENT') return { rowDescription: null, rows: [], tag: 'SET' };
  else value = setValue(n.args ?? []);
  const stored = validateSetting(canonical, name, value);
  const key = canonical ?? name.toLowerCase();
  s.settings.set(key, stored);
  const before = canonical && isReported(canonical) ? [msg.parameterStatus(canonical, stored)] : undefined;
  return { rowDescription: null, rows: [], tag: kind === 'VAR_RESET' ? 'RESET' : 'SET', before };
}

function transaction(s: Session, n: Node): Result {
  const kind: string = n.kind;
  const done = (tag: string, before?: Buffer[]): Result => ({ rowDescription: null, rows: [], tag, before });
  switch (kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START': {
      const warn = s.tx !== 'I' ? [msg.error({ severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' }, 'N')] : undefined;
      if (s.tx === 'I') s.tx = 'T';
      return done(kind === 'TRANS_STMT_BEGIN' ? 'BEGIN' : 'START TRANSACTION', warn);
    }
    case 'TRANS_STMT_COMMIT': {
      const failed = s.tx === 'E';
      const warn = s.tx === 'I' ? [msg.error({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }, 'N')] : undefined;
      s.tx = 'I';
      return done(failed ? 'ROLLBACK' : 'COMMIT', warn);
    }
    case 'TRANS_STMT_ROLLBACK': {
      const warn = s.tx === 'I' ? [msg.error({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }, 'N')] : undefined;
      s.tx = 'I';
      return done('ROLLBACK', warn);
    }
    case 'TRANS_STMT_SAVEPOINT':
      if (s.tx === 'I') throw new SqlError('25P01', 'SAVEPOINT can only be used in transaction blocks');
      return done('SAVEPOINT');
    case 'TRANS_STMT_RELEASE':
      return done('RELEASE');
    case 'TRANS_STMT_ROLLBACK_TO':
      if (s.tx === 'E') s.tx = 'T';
      return done('ROLLBACK');
    default:
      throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'two-phase commit is not supported');
  }
}

function setValue(args: Node[]): string {
  return args
    .map((a) => {
      const c = a.A_Const ?? a.TypeCast?.arg?.A_Const;
      if (!c) return '';
      if (c.sval) return c.sval.sval;
      if (c.ival) return String(c.ival.ival);
      if ('ival' in c) return '0';
      if (c.fval) return c.fval.fval;
      if (c.boolval) return c.boolval.boolval ? 'on' : 'off';
      return '';
    })
    .join(', ');
}
