/**
 * Monthly usage per tenant (UTC months): queries, rows read, bytes returned, refused requests.
 * `add()` is synchronous and never waits: increments are summed in memory per (tenant, month) and
 * written as one multi-row upsert (`x = x + EXCLUDED.x`) every flushIntervalMs, so every instance adds
 * its own share and a count is never lost to a race. A failed flush keeps the increments for the next one.
 */
import { errInfo, type Queryable, type StoreLogger } from './db.js';
import { toNumber } from './sql.js';

export interface UsageDelta {
  readonly queries?: number;
  readonly rowsRead?: number;
  readonly bytesReturned?: number;
  readonly refused?: number;
}

export interface MonthUsage {
  readonly tenantId: string;
  /** First day of the month, UTC. */
  readonly month: Date;
  readonly queries: number;
  readonly rowsRead: number;
  readonly bytesReturned: number;
  readonly refused: number;
}

export interface UsageRepo {
  add(tenantId: string, delta: UsageDelta, at?: Date): void;
  flush(): Promise<void>;
  /** One tenant's month as stored (without this instance's unflushed share). */
  get(tenantId: string, month: Date): Promise<MonthUsage>;
  /** Every tenant's month, largest first (operators). */
  list(month: Date, limit?: number): Promise<MonthUsage[]>;
  close(): Promise<void>;
}

export function monthOf(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

const monthKey = (d: Date) => d.toISOString().slice(0, 10);
/** The month as text: `pg` would read a date as local midnight. */
const SELECT = "tenant_id, to_char(month, 'YYYY-MM-DD') AS month, queries, rows_read, bytes_returned, refused";
const FIELDS = ['queries', 'rowsRead', 'bytesReturned', 'refused'] as const;

export function createUsageRepo(db: Queryable, logger: StoreLogger, options: { flushIntervalMs?: number } = {}): UsageRepo {
  const interval = options.flushIntervalMs ?? 2_000;
  let pending = new Map<string, { tenantId: string; month: string; d: Record<(typeof FIELDS)[number], number> }>();
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const drain = async () => {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    const tuples = batch.map(
      (e) =>
        `(${p(e.tenantId)}, ${p(e.month)}::date, ${p(e.d.queries)}::bigint, ${p(e.d.rowsRead)}::bigint, ${p(e.d.bytesReturned)}::bigint, ${p(e.d.refused)}::bigint)`,
    );
    try {
      await db.query(
        `INSERT INTO tenant_usage (tenant_id, month, queries, rows_read, bytes_returned, refused) VALUES ${tuples.join(', ')}
         ON CONFLICT (tenant_id, month) DO UPDATE SET queries = tenant_usage.queries + EXCLUDED.queries,
           rows_read = tenant_usage.rows_read + EXCLUDED.rows_read, bytes_returned = tenant_usage.bytes_returned + EXCLUDED.bytes_returned,
           refused = tenant_usage.refused + EXCLUDED.refused`,
        params,
      );
    } catch (err) {
      // Kept for the next flush (a store outage must not lose metering), merged with what came meanwhile.
      for (const e of batch) merge(e.tenantId, e.month, e.d);
      logger.warn({ err: errInfo(err), tenants: batch.length }, 'usage: could not write increments; retrying at the next flush');
      arm();
    }
  };

  const merge = (tenantId: string, month: string, delta: UsageDelta) => {
    const key = `${tenantId}\u0000${month}`;
    let e = pending.get(key);
    if (!e) {
      e = { tenantId, month, d: { queries: 0, rowsRead: 0, bytesReturned: 0, refused: 0 } };
      pending.set(key, e);
    }
    for (const f of FIELDS) e.d[f] += Math.max(0, Math.round(delta[f] ?? 0));
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    chain = chain.then(drain, drain);
    return chain;
  };
  const arm = () => {
    if (timer) return;
    timer = setTimeout(() => void flush(), interval);
    timer.unref();
  };

  return {
    add(tenantId, delta, at = new Date()) {
      merge(tenantId, monthKey(monthOf(at)), delta);
      arm();
    },
    flush,
    async get(tenantId, month) {
      const rows = await db.query(`SELECT ${SELECT} FROM tenant_usage WHERE tenant_id = $1 AND month = $2::date`, [tenantId, monthKey(monthOf(month))]);
      return rows[0] ? toUsage(rows[0]) : { tenantId, month: monthOf(month), queries: 0, rowsRead: 0, bytesReturned: 0, refused: 0 };
    },
    async list(month, limit = 1_000) {
      const rows = await db.query(`SELECT ${SELECT} FROM tenant_usage WHERE month = $1::date ORDER BY queries DESC, tenant_id LIMIT $2`, [
        monthKey(monthOf(month)),
        Math.min(Math.max(1, limit), 10_000),
      ]);
      return rows.map(toUsage);
    },
    close: () => flush(),
  };
}

function toUsage(r: Record<string, unknown>): MonthUsage {
  return {
    tenantId: String(r.tenant_id),
    month: new Date(`${String(r.month)}T00:00:00Z`),
    queries: toNumber(r.queries),
    rowsRead: toNumber(r.rows_read),
    bytesReturned: toNumber(r.bytes_returned),
    refused: toNumber(r.refused),
  };
}
