/**
 * ROW-LIMIT PASS: the outermost statement returns at most `limit` rows after `offset`.
 * Limits were validated against the configured maximum during normalization; the pass only
 * places them, so no planner branch can forget them. `countRows` is the `total` statement:
 * the same rows without order, limit or offset.
 */
import { invariant } from '../../errors.js';
import { call, select, type Query, type Select } from '../plan-tree.js';

export function applyRowLimit(query: Query, limit: number, offset: number): Select {
  invariant(query.kind === 'select', 'the outermost statement is a SELECT');
  invariant(Number.isSafeInteger(limit) && limit >= 0, 'limit is a non-negative integer');
  invariant(Number.isSafeInteger(offset) && offset >= 0, 'offset is a non-negative integer');
  return { ...query, limit, offset };
}

export function countRows(query: Query): Select {
  invariant(query.kind === 'select', 'the outermost statement is a SELECT');
  const unlimited: Select = { ...query, orderBy: [], limit: undefined, offset: undefined };
  return select({
    columns: [{ expr: call('count'), alias: 'total' }],
    from: { kind: 'derived', query: unlimited, alias: '__rows' },
  });
}
