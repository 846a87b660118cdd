/** Which statements compose answers (compose.ts); the others keep the translator's own error. */
import type { Node } from '../translate/ast.js';
import { hasGroupingSets } from './grouping-sets.js';
import { isSetOperation } from './nodes.js';
import { hasDistinctOn } from './window-split.js';

/** Features only compose answers; statements without any keep the translator's own error. */
export function needsCompose(select: Node): boolean {
  let found = Boolean(select.withClause) || hasDistinctOn(select) || isSetOperation(select) || hasGroupingSets(select) || (select.fromClause?.length ?? 0) > 1;
  if (!found) {
    JSON.stringify(select, (k, v) => {
      if (k === 'SubLink' || k === 'over' || k === 'windowClause' || k === 'RangeSubselect' || (k === 'quals' && v)) found = true;
      return v;
    });
  }
  return found;
}
