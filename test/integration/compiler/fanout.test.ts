/**
 * Compiled SQL on a real embedded ClickHouse (chDB): fan-out correctness, tenant isolation,
 * rolling windows and time zones, checked against the same numbers computed in JS.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileQuery } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { TENANT, model, options } from '../../unit/compiler/fixture.js';

let dir: string;
let client: ClickHouseClient;

// Deterministic data: two tenants; every acme order has 0..3 line items (fan-out).
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];

interface Order {
  tenant_id: string;
  id: number;
  customer_id: number;
  status: string;
  amount: number;
  paid: number;
  created_at: string;
}
interface Item {
  account_id: string;
  id: number;
  order_id: number;
  product: string;
  quantity: number;
}
interface Customer {
  tenant_id: string;
  id: number;
  name: string;
  country_code: string;
  credit: number;
}
const customers: Customer[] = [];
const orders: Order[] = [];
const items: Item[] = [];
for (let id = 1; id <= 12; id++)
  customers.push({ tenant_id: id <= 9 ? 'acme' : 'evil', id, name: `c${id}`, country_code: pick(['FR', 'DE', 'US']), credit: id * 10 });
for (let id = 1; id <= 80; id++) {
  const tenant = id <= 60 ? 'acme' : 'evil';
  const customer_id = tenant === 'acme' ? 1 + Math.floor(rand() * 9) : 10 + Math.floor(rand() * 3);
  const day = 1 + Math.floor(rand() * 20);
  const hour = Math.floor(rand() * 24);
  orders.push({
    tenant_id: tenant,
    id,
    customer_id,
    status: pick(['completed', 'pending', '50%_off']),
    amount: Math.round(rand() * 1000) / 10,
    paid: rand() < 0.5 ? 1 : 0,
    created_at: `2024-01-${String(day).padStart(2, '0')} ${String(hour).padStart(2, '0')}:00:00`,
  });
  const n = Math.floor(rand() * 4);
  for (let k = 0; k < n; k++)
    items.push({ account_id: tenant, id: items.length + 1, order_id: id, product: pick(['x', 'y', 'z']), quantity: 1 + Math.floor(rand() * 5) });
}
const acmeOrders = orders.filter((o) => o.tenant_id === 'acme');
const acmeItems = items.filter((i) => i.account_id === 'acme');
const round = (x: number) => Math.round(x * 1e6) / 1e6;

async function run(query: SemanticQuery, tenantId = TENANT) {
  const compiled = compileQuery(model, normalizeQuery(model, query, options), tenantId);
  const rs = await client.query({ query: compiled.sql, query_params: compiled.params as Record<string, unknown>, format: 'JSONEachRow' });
  const rows = (await rs.json()) as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(compiled.columns.map((c) => [c.key, typeof r[c.alias] === 'number' ? round(r[c.alias] as number) : r[c.alias]])));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(`${os.tmpdir()}/strata-`);
  // chdb types its Connection against its own copy of @clickhouse/client-common; same shape.
  const connection = createChdbConnection({ path: dir }) as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'];
  client = createClient({ connection, clickhouse_settings: { async_insert: 0 } });
  for (const ddl of [
    'CREATE DATABASE strata',
    "CREATE TABLE strata.orders (tenant_id String, id UInt64, customer_id UInt64, status String, amount Float64, paid UInt8, cost Float64 DEFAULT 0, note String DEFAULT '', created_at DateTime('UTC'), updated_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY id",
    'CREATE TABLE strata.customers (tenant_id String, id UInt64, name String, country_code String, credit Float64, signed_up_at Date DEFAULT today()) ENGINE = MergeTree ORDER BY id',
    'CREATE TABLE strata.line_items (account_id String, id UInt64, order_id UInt64, product String, quantity Float64) ENGINE = MergeTree ORDER BY id',
    'CREATE TABLE strata.countries (code String, name String) ENGINE = MergeTree ORDER BY code',
  ]) {
    await client.command({ query: ddl });
  }
  await client.insert({ table: 'strata.orders', values: orders, format: 'JSONEachRow' });
  await client.insert({ table: 'strata.customers', values: customers, format: 'JSONEachRow' });
  await client.insert({ table: 'strata.line_items', values: items, format: 'JSONEachRow' });
  await client.insert({
    table: 'strata.countries',
    values: [
      { code: 'FR', name: 'France' },
      { code: 'DE', name: 'Germany' },
    ],
    format: 'JSONEachRow',
  });
});

afterAll(async () => {
  await client?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fan-out (one_to_many) is not double counted', () => {
  it('order measures by line item product count each order once per product', async () => {
    const rows = await run({
      measures: ['orders.count', 'orders.revenue', 'line_items.quantity', 'line_items.count'],
      dimensions: ['line_items.product'],
      order: { 'line_items.product': 'asc' },
    });
    const products = [...new Set(acmeItems.map((i) => i.product))].sort();
    const expected = products.map((p) => {
      const its = acmeItems.filter((i) => i.product === p);
      const ids = new Set(its.map((i) => i.order_id));
      const os = acmeOrders.filter((o) => ids.has(o.id));
      return {
        'line_items.product': p,
        'orders.count': os.length,
        'orders.revenue': round(os.reduce((s, o) => s + o.amount, 0)),
        'line_items.quantity': round(its.reduce((s, i) => s + i.quantity, 0)),
        'line_items.count': its.length,
      };
    });
    // Orders without items appear once under a NULL product (outer join semantics).
    const lonely = acmeOrders.filter((o) => !acmeItems.some((i) => i.order_id === o.id));
    const nullRow = {
      'line_items.product': null,
      'orders.count': lonely.length,
      'orders.revenue': round(lonely.reduce((s, o) => s + o.amount, 0)),
      'line_items.quantity': null,
      'line_items.count': 0,
    };
    expect(rows).toEqual(lonely.length ? [...expected, nullRow] : expected);
  });

  it('totals without dimensions equal the plain sums', async () => {
    const [row] = await run({ measures: ['orders.revenue', 'orders.count', 'line_items.quantity', 'orders.revenue_per_customer'] });
    const revenue = round(acmeOrders.reduce((s, o) => s + o.amount, 0));
    expect(row).toEqual({
      'orders.revenue': revenue,
      'orders.count': acmeOrders.length,
      'line_items.quantity': round(acmeItems.reduce((s, i) => s + i.quantity, 0)),
      'orders.revenue_per_customer': round(revenue / new Set(acmeOrders.map((o) => o.customer_id)).size),
    });
  });

  it('many_to_one target measures (customers by order status) count each customer once', async () => {
    const rows = await run({
      measures: ['customers.count', 'customers.credit', 'orders.count'],
      dimensions: ['orders.status'],
      order: { 'orders.status': 'asc' },
    });
    const statuses = [...new Set(acmeOrders.map((o) => o.status))].sort();
    expect(rows).toEqual(
      statuses.map((s) => {
        const os = acmeOrders.filter((o) => o.status === s);
        const cs = customers.filter((c) => os.some((o) => o.customer_id === c.id));
        return { 'orders.status': s, 'customers.count': cs.length, 'customers.credit': round(cs.reduce((t, c) => t + c.credit, 0)), 'orders.count': os.length };
      }),
    );
  });
});

describe('tenant isolation', () => {
  it('each tenant sees only its rows, through joins too', async () => {
    const [acme] = await run({ measures: ['orders.count', 'line_items.count'] });
    const [evil] = await run({ measures: ['orders.count', 'line_items.count'] }, 'evil');
    expect(acme).toEqual({ 'orders.count': 60, 'line_items.count': acmeItems.length });
    expect(evil).toEqual({ 'orders.count': 20, 'line_items.count': items.length - acmeItems.length });
    const [nobody] = await run({ measures: ['orders.count'] }, "acme' OR '1'='1");
    expect(nobody).toEqual({ 'orders.count': 0 });
  });
});

describe('filters and time', () => {
  it('contains matches % and _ literally; notEquals keeps NULL join rows', async () => {
    const [row] = await run({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'contains', values: ['0%_O'] }] });
    expect(row['orders.count']).toBe(acmeOrders.filter((o) => o.status === '50%_off').length);
    const [none] = await run({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'contains', values: ['0_%o'] }] });
    expect(none['orders.count']).toBe(0);
    const [ne] = await run({ measures: ['orders.count'], filters: [{ member: 'customers.country_code', operator: 'notEquals', values: ['FR'] }] });
    expect(ne['orders.count']).toBe(acmeOrders.filter((o) => customers.find((c) => c.id === o.customer_id)!.country_code !== 'FR').length);
  });

  it('day buckets follow the query time zone', async () => {
    const rows = await run({
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-05', '2024-01-10'] }],
      timezone: 'America/Los_Angeles',
    });
    const local = (o: Order) => new Date(Date.parse(`${o.created_at.replace(' ', 'T')}Z`) - 8 * 3600_000).toISOString().slice(0, 10);
    const counts = new Map<string, number>();
    for (const o of acmeOrders) {
      const d = local(o);
      if (d >= '2024-01-05' && d <= '2024-01-10') counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    expect(rows).toEqual([...counts.keys()].sort().map((d) => ({ 'orders.created_at.day': `${d} 00:00:00.000`, 'orders.count': counts.get(d) })));
  });

  it('a trailing 7-day rolling sum per day matches a direct computation, with empty days filled', async () => {
    const rows = await run({
      measures: ['orders.revenue_7d'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-18', '2024-01-25'] }],
    });
    const expected = [];
    for (let day = 18; day <= 25; day++) {
      const end = Date.UTC(2024, 0, day + 1) - 1;
      const inWindow = acmeOrders.filter((o) => {
        const t = Date.parse(`${o.created_at.replace(' ', 'T')}Z`);
        return t > end - 7 * 86_400_000 && t <= end;
      });
      expected.push({
        'orders.created_at.day': `2024-01-${day} 00:00:00.000`,
        'orders.revenue_7d': inWindow.length ? round(inWindow.reduce((s, o) => s + o.amount, 0)) : null,
      });
    }
    expect(rows).toEqual(expected);
  });

  it('total counts the rows the query would return without a limit', async () => {
    const compiled = compileQuery(
      model,
      normalizeQuery(model, { dimensions: ['customers.name'], measures: ['orders.count'], limit: 2, total: true }, options),
      TENANT,
    );
    const rs = await client.query({ query: compiled.total!.sql, query_params: compiled.total!.params as Record<string, unknown>, format: 'JSONEachRow' });
    const [{ total }] = (await rs.json()) as { total: string | number }[];
    expect(Number(total)).toBe(new Set(acmeOrders.map((o) => o.customer_id)).size);
  });
});

describe('aggregated before the lookup joins (eager aggregation)', () => {
  const sqlOf = (query: SemanticQuery, tenantId = TENANT) => compileQuery(model, normalizeQuery(model, query, options), tenantId).sql;
  const customerOf = new Map(customers.map((c) => [c.id, c]));
  const countryName: Record<string, string> = { FR: 'France', DE: 'Germany' };
  /** The orders of a tenant grouped by `key`, with the measures computed in JS. */
  function oracle(tenant: string, key: (o: Order) => string, keep: (o: Order) => boolean = () => true) {
    const groups = new Map<string, Order[]>();
    for (const o of orders.filter((x) => x.tenant_id === tenant && keep(x))) groups.set(key(o), [...(groups.get(key(o)) ?? []), o]);
    return new Map(
      [...groups].map(([k, os]) => {
        const paid = os.filter((o) => o.paid === 1);
        return [
          k,
          {
            'orders.count': os.length,
            'orders.revenue': round(os.reduce((s, o) => s + o.amount, 0)),
            'orders.min_amount': round(Math.min(...os.map((o) => o.amount))),
            'orders.max_amount': round(Math.max(...os.map((o) => o.amount))),
            'orders.paid_count': paid.length,
            'orders.paid_revenue': round(paid.reduce((s, o) => s + o.amount, 0)),
            'orders.paid_ratio': round(paid.length / os.length),
          },
        ];
      }),
    );
  }
  const MEASURES = [
    'orders.count',
    'orders.revenue',
    'orders.min_amount',
    'orders.max_amount',
    'orders.paid_count',
    'orders.paid_revenue',
    'orders.paid_ratio',
  ];

  it('measures by a lookup two joins away (NULL where the lookup has no row) equal a direct computation', async () => {
    const query: SemanticQuery = { measures: MEASURES, dimensions: ['countries.name'], order: { 'countries.name': 'asc' } };
    expect(sqlOf(query)).toMatch(/FROM \(\n {2}SELECT [^\n]*`__e0`/); // the root is aggregated first
    const rows = await run(query);
    const expected = oracle(TENANT, (o) => countryName[customerOf.get(o.customer_id)!.country_code] ?? 'NULL');
    expect(rows.map((r) => r['countries.name'] ?? 'NULL').sort()).toEqual([...expected.keys()].sort());
    for (const r of rows) expect(r).toEqual({ 'countries.name': r['countries.name'], ...expected.get((r['countries.name'] as string) ?? 'NULL') });
    expect(expected.has('NULL')).toBe(true); // US customers: the LEFT JOIN's NULL group is there
  });

  it('root and lookup dimensions, a day bucket, filters on both sides and a HAVING', async () => {
    const query: SemanticQuery = {
      measures: ['orders.revenue', 'orders.count', 'orders.paid_ratio'],
      dimensions: ['orders.status', 'customers.name'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-03', '2024-01-17'] }],
      filters: [
        { member: 'customers.country_code', operator: 'notEquals', values: ['DE'] },
        { member: 'orders.amount', operator: 'gt', values: ['5'] },
        { member: 'orders.revenue', operator: 'gt', values: ['20'] },
      ],
      order: { 'orders.revenue': 'desc', 'orders.status': 'asc', 'customers.name': 'asc', 'orders.created_at': 'asc' },
    };
    const sql = sqlOf(query);
    expect(sql).toMatch(/FROM \(\n {2}SELECT [^\n]*`__e0`/);
    // Conditions on the root alone are applied before the aggregation, the lookup's after the join.
    expect(sql).toMatch(/\n {2}WHERE `orders`\.amount > \{p\d+:Float64\}/);
    expect(sql).toMatch(/\nWHERE NOT \(`customers`\.country_code = \{p\d+:String\}\) OR `customers`\.country_code IS NULL|\nWHERE .*`customers`\.country_code/);
    const rows = await run(query);
    const day = (o: Order) => o.created_at.slice(0, 10);
    const keep = (o: Order) => o.amount > 5 && day(o) >= '2024-01-03' && day(o) <= '2024-01-17' && customerOf.get(o.customer_id)!.country_code !== 'DE';
    const expected = [...oracle(TENANT, (o) => `${o.status}|${customerOf.get(o.customer_id)!.name}|${day(o)}`, keep)]
      .filter(([, m]) => m['orders.revenue'] > 20)
      .map(([k, m]) => {
        const [status, name, d] = k.split('|');
        return {
          'orders.status': status,
          'customers.name': name,
          'orders.created_at.day': `${d}T00:00:00.000`,
          'orders.revenue': m['orders.revenue'],
          'orders.count': m['orders.count'],
          'orders.paid_ratio': m['orders.paid_ratio'],
        };
      });
    const norm = (r: Record<string, unknown>) => ({ ...r, 'orders.created_at.day': String(r['orders.created_at.day']).replace(' ', 'T') });
    const byKey = (r: Record<string, unknown>) => `${r['orders.status']}|${r['customers.name']}|${r['orders.created_at.day']}`;
    expect(rows.map(norm).sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual(expected.sort((a, b) => byKey(a).localeCompare(byKey(b))));
    expect(rows.length).toBeGreaterThan(3);
    // ordered by revenue, descending
    const revenues = rows.map((r) => r['orders.revenue'] as number);
    expect(revenues).toEqual([...revenues].sort((a, b) => b - a));
  });

  it('aggregates that cannot be split keep the one-stage form and stay exact', async () => {
    for (const measure of ['orders.avg_amount', 'orders.customers_count']) {
      const query: SemanticQuery = { measures: [measure, 'orders.revenue'], dimensions: ['customers.name'] };
      expect(sqlOf(query)).not.toContain('__e0');
      const rows = await run(query);
      for (const r of rows) {
        const os = acmeOrders.filter((o) => customerOf.get(o.customer_id)!.name === r['customers.name']);
        const value = measure === 'orders.avg_amount' ? round(os.reduce((s, o) => s + o.amount, 0) / os.length) : new Set(os.map((o) => o.customer_id)).size;
        expect(Number(r[measure])).toBeCloseTo(value, 6);
      }
    }
    // A measure of the lookup itself (customers.credit) is not split either.
    expect(sqlOf({ measures: ['orders.revenue', 'customers.credit'], dimensions: ['countries.name'] })).not.toContain('__e0');
  });

  it('each tenant aggregates only its own rows before the join', async () => {
    const query: SemanticQuery = { measures: ['orders.count', 'orders.revenue'], dimensions: ['customers.name'], order: { 'customers.name': 'asc' } };
    const sql = sqlOf(query, 'evil');
    expect(sql.match(/`tenant_id` = \{tenant:String\}/g)).toHaveLength(2); // orders (inside) and customers
    const rows = await run(query, 'evil');
    const expected = oracle('evil', (o) => customerOf.get(o.customer_id)!.name);
    expect(rows.map((r) => [r['customers.name'], r['orders.count'], r['orders.revenue']])).toEqual(
      [...expected].sort(([a], [b]) => a.localeCompare(b)).map(([k, m]) => [k, m['orders.count'], m['orders.revenue']]),
    );
    expect(rows.every((r) => ['c10', 'c11', 'c12'].includes(r['customers.name'] as string))).toBe(true);
  });
});
