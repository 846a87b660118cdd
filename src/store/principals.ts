/**
 * The principals seen per tenant (users and API keys): subject, name / email claims, first and last
 * seen, the doors used. `seen()` is synchronous and never waits: sightings are merged in memory per
 * (tenant, subject) and written as one multi-row upsert every flushIntervalMs — one write per
 * principal per interval, never one per request. A failed flush is dropped with a warning.
 */
import { errInfo, type Queryable, type StoreLogger } from './db.js';
import { toDate } from './sql.js';

export interface Sighting {
  readonly tenantId: string;
  readonly subject: string;
  readonly via: string;
  readonly door: string;
  readonly name?: string;
  readonly email?: string;
  readonly at?: Date;
}

export interface SeenPrincipal {
  readonly subject: string;
  readonly via: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
  readonly lastDoor: string;
  readonly doors: readonly string[];
}

export interface PrincipalRepo {
  seen(s: Sighting): void;
  flush(): Promise<void>;
  /** The tenant's principals, most recently seen first. */
  list(tenantId: string, options?: { limit?: number }): Promise<SeenPrincipal[]>;
  close(): Promise<void>;
}

interface Pending {
  tenantId: string;
  subject: string;
  via: string;
  name?: string;
  email?: string;
  first: Date;
  last: Date;
  lastDoor: string;
  doors: Set<string>;
}

const MAX_PENDING = 10_000;
const cut = (v: string | undefined, n: number) => (v ? v.slice(0, n) : null);

export function createPrincipalRepo(db: Queryable, logger: StoreLogger, options: { flushIntervalMs?: number } = {}): PrincipalRepo {
  const interval = options.flushIntervalMs ?? 2_000;
  let pending = new Map<string, Pending>();
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const write = async (batch: Pending[]) => {
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    const tuples = batch.map(
      (e) =>
        `(${p(e.tenantId)}, ${p(e.subject)}, ${p(e.via)}, ${p(cut(e.name, 200))}, ${p(cut(e.email, 320))}, ${p(e.first)}::timestamptz, ${p(e.last)}::timestamptz, ${p(e.lastDoor)}, ${p([...e.doors])}::text[])`,
    );
    // Tenants deleted meanwhile would fail the whole batch on the foreign key: keep only registered ones.
    await db.query(
      `INSERT INTO tenant_principals (tenant_id, subject, via, name, email, first_seen, last_seen, last_door, doors)
       SELECT v.* FROM (VALUES ${tuples.join(', ')}) AS v(tenant_id, subject, via, name, email, first_seen, last_seen, last_door, doors)
        WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = v.tenant_id)
       ON CONFLICT (tenant_id, subject) DO UPDATE SET
         via = EXCLUDED.via,
         name = COALESCE(EXCLUDED.name, tenant_principals.name),
         email = COALESCE(EXCLUDED.email, tenant_principals.email),
         first_seen = LEAST(tenant_principals.first_seen, EXCLUDED.first_seen),
         last_seen = GREATEST(tenant_principals.last_seen, EXCLUDED.last_seen),
         last_door = EXCLUDED.last_door,
         doors = ARRAY(SELECT DISTINCT d FROM unnest(tenant_principals.doors || EXCLUDED.doors) AS d ORDER BY d)`,
      params,
    );
  };

  const drain = async () => {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    for (let i = 0; i < batch.length; i += 500) {
      try {
        await write(batch.slice(i, i + 500));
      } catch (err) {
        logger.warn({ err: errInfo(err), dropped: Math.min(500, batch.length - i) }, 'principals: could not record sightings; dropped');
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    chain = chain.then(drain, drain);
    return chain;
  };

  return {
    seen(s) {
      const key = `${s.tenantId}\u0000${s.subject}`;
      const at = s.at ?? new Date();
      const e = pending.get(key);
      if (e) {
        e.last = at;
        e.lastDoor = s.door;
        e.doors.add(s.door);
        e.via = s.via;
        e.name = s.name ?? e.name;
        e.email = s.email ?? e.email;
      } else {
        if (pending.size >= MAX_PENDING) return; // a flood of new subjects waits for the next flush
        pending.set(key, {
          tenantId: s.tenantId,
          subject: s.subject,
          via: s.via,
          name: s.name,
          email: s.email,
          first: at,
          last: at,
          lastDoor: s.door,
          doors: new Set([s.door]),
        });
      }
      if (!timer) {
        timer = setTimeout(() => void flush(), interval);
        timer.unref();
      }
    },
    flush,
    async list(tenantId, { limit = 100 } = {}) {
      const rows = await db.query(
        `SELECT subject, via, name, email, first_seen, last_seen, last_door, doors FROM tenant_principals
          WHERE tenant_id = $1 ORDER BY last_seen DESC, subject LIMIT $2`,
        [tenantId, Math.min(Math.max(1, Math.floor(limit)), 1_000)],
      );
      return rows.map((r) => ({
        subject: String(r.subject),
        via: String(r.via),
        name: r.name === null ? null : String(r.name),
        email: r.email === null ? null : String(r.email),
        firstSeen: toDate(r.first_seen),
        lastSeen: toDate(r.last_seen),
        lastDoor: String(r.last_door),
        doors: (r.doors as string[] | null) ?? [],
      }));
    },
    close: () => flush(),
  };
}
