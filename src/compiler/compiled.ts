/** What the compiler produces. The only place SQL text is born. */
import type { Granularity } from '../semantic/query.js';

export type ColumnType = 'string' | 'number' | 'time' | 'boolean';

export interface CompiledColumn {
  /** SQL alias in the result set (safe identifier chosen by the compiler). */
  readonly alias: string;
  /** Member path as the caller named it; time dimensions carry their granularity: "cube.date.day". */
  readonly key: string;
  /** Member path without granularity. */
  readonly member: string;
  readonly kind: 'measure' | 'dimension' | 'timeDimension';
  readonly type: ColumnType;
  readonly granularity?: Granularity;
}

export interface SqlStatement {
  readonly sql: string;
  /** ClickHouse query parameters, referenced in sql as {name:Type}. */
  readonly params: Readonly<Record<string, unknown>>;
}

export interface CompiledQuery extends SqlStatement {
  readonly columns: readonly CompiledColumn[];
  /** Cubes the statement reads (after view resolution), for refresh keys and cache invalidation. */
  readonly cubes: readonly string[];
  /** A statement counting the rows the query would return without limit/offset (query.total). */
  readonly total?: SqlStatement;
  /** The rollup pre-aggregation that answers it, when one does (compiler/rollup/route.ts). */
  readonly rollup?: { readonly cube: string; readonly name: string; readonly table: string };
}

/** A statement answering several date ranges at once (compileSplitQuery). */
export interface CompiledSplitQuery extends CompiledQuery {
  /** Per range, in the order asked: its row-count alias and each measure alias's per-range alias. */
  readonly splits: readonly {
    readonly countAlias: string;
    readonly measureAliases: Readonly<Record<string, string>>;
  }[];
  /** With grouping sets: a row belongs to set i when its `alias` column equals masks[i]. */
  readonly sets?: { readonly alias: string; readonly masks: readonly number[] };
}

export interface CompileOptions {
  /** Reference instant for relative date ranges (the compiler never reads the clock). */
  readonly now: Date;
  readonly defaultLimit: number;
  readonly maxLimit: number;
}
