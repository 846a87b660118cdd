/**
 * Injection suite: hostile text in every place a caller can put text. It either travels as a
 * query parameter (never in the SQL text) or is rejected as BAD_USER_INPUT.
 */
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../../src/compiler/compile.js';
import type { CompiledQuery } from '../../../src/compiler/compiled.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { compile, errorOf, model, options } from './fixture.js';

const PAYLOADS = [
  "' OR 1=1 --",
  "x'); DROP TABLE strata.orders; --",
  '*/ UNION SELECT * FROM system.users /*',
  '{tenant:String}',
  '{p0:String}',
  '`) OR (1=1',
  "\\' OR ''='",
  'SELECT secret FROM other_tenant',
  '%_\\',
  '\n; SETTINGS readonly=0',
];

/** Every statement of a compiled query (main and total). */
const statements = (c: CompiledQuery) => [c, ...(c.total ? [c.total] : [])];

/** The payload changed nothing but parameters: same SQL text as with a harmless value. */
function expectOnlyInParams(c: CompiledQuery, harmless: CompiledQuery, payload: string) {
  expect(statements(c).map((s) => s.sql)).toEqual(statements(harmless).map((s) => s.sql));
  for (const s of statements(c)) {
    if (!payload.startsWith('{')) expect(s.sql).not.toContain(payload);
    // The payload is in a parameter (verbatim, or wrapped in LIKE wildcards).
    expect(Object.values(s.params).some((v) => typeof v === 'string' && (v === payload || v.includes(payload.replace(/[\\%_]/g, (ch) => `\\${ch}`))))).toBe(
      true,
    );
  }
}

describe('filter values travel only as parameters', () => {
  const operators = ['equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith'] as const;
  it.each(PAYLOADS)('%j', (payload) => {
    for (const operator of operators) {
      const query = (value: string): SemanticQuery => ({
        measures: ['orders.count', 'customers.count'],
        dimensions: ['line_items.product'],
        filters: [{ member: 'customers.name', operator, values: [value] }],
        total: true,
      });
      expectOnlyInParams(compile(query(payload)), compile(query('harmless')), payload);
    }
  });

  it('the tenant id is a parameter too', () => {
    const hostile = "acme' OR '1'='1";
    const c = compileQuery(model, normalizeQuery(model, { measures: ['orders.count'], dimensions: ['customers.name'] }, options), hostile);
    expect(c.sql).not.toContain(hostile);
    expect(c.params.tenant).toBe(hostile);
  });

  it('hostile values for number, boolean and time members are rejected, not passed through', () => {
    for (const payload of PAYLOADS) {
      expect(errorOf(() => compile({ measures: ['orders.count'], filters: [{ member: 'orders.amount', operator: 'gt', values: [payload] }] })).code).toBe(
        'BAD_USER_INPUT',
      );
      expect(errorOf(() => compile({ measures: ['orders.count'], filters: [{ member: 'orders.is_paid', operator: 'equals', values: [payload] }] })).code).toBe(
        'BAD_USER_INPUT',
      );
      expect(
        errorOf(() => compile({ measures: ['orders.count'], filters: [{ member: 'orders.created_at', operator: 'afterDate', values: [payload] }] })).code,
      ).toBe('BAD_USER_INPUT');
    }
  });
});

describe('names are resolved against the model or rejected', () => {
  const where: [string, (payload: string) => SemanticQuery][] = [
    ['measures', (p) => ({ measures: [`orders.${p}`] })],
    ['dimensions', (p) => ({ dimensions: [p] })],
    ['segments', (p) => ({ measures: ['orders.count'], segments: [`orders.completed${p}`] })],
    ['timeDimensions', (p) => ({ measures: ['orders.count'], timeDimensions: [{ dimension: `orders.created_at${p}` }] })],
    ['filter member', (p) => ({ measures: ['orders.count'], filters: [{ member: `orders.status ${p}`, operator: 'set' }] })],
    ['filter operator', (p) => ({ measures: ['orders.count'], filters: [{ member: 'orders.status', operator: p as never, values: ['x'] }] })],
    ['order member', (p) => ({ measures: ['orders.count'], order: { [`orders.count${p}`]: 'asc' } })],
    ['order direction', (p) => ({ measures: ['orders.count'], order: { 'orders.count': p as never } })],
    ['granularity', (p) => ({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: p as never }] })],
    ['time zone', (p) => ({ measures: ['orders.count'], timezone: `UTC${p}` })],
    ['dateRange', (p) => ({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: `last 7 days${p}` }] })],
    [
      'dateRange bound',
      (p) => ({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-01-01', `2024-01-02${p}`] }] }),
    ],
    ['limit', (p) => ({ measures: ['orders.count'], limit: p as never })],
    ['offset', (p) => ({ measures: ['orders.count'], offset: p as never })],
  ];
  it.each(where)('%s', (_slot, build) => {
    for (const payload of PAYLOADS) {
      const err = errorOf(() => compile(build(payload)));
      expect(err.code).toBe('BAD_USER_INPUT');
    }
  });

  it('a view or cube name cannot smuggle text through the alias', () => {
    expect(errorOf(() => compile({ measures: ['sales`.count'] })).message).toBe('unknown member "sales`.count" — did you mean "sales.count"?');
    expect(errorOf(() => compile({ measures: ['__proto__.count'] })).message).toBe('unknown member "__proto__.count"');
    expect(errorOf(() => compile({ measures: ['orders.constructor'] })).message).toBe('unknown member "orders.constructor"');
  });
});

describe('SQL text contains only model text, generated identifiers and placeholders', () => {
  it('every placeholder is bound and every parameter is used', () => {
    const c = compile({
      measures: ['orders.revenue_7d', 'orders.count', 'customers.count'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'last 7 days' }],
      filters: [
        { member: 'orders.status', operator: 'contains', values: ["o'brien"] },
        { member: 'orders.count', operator: 'gt', values: [1] },
      ],
      timezone: 'Europe/Paris',
      total: true,
    });
    for (const s of statements(c)) {
      const used = new Set([...s.sql.matchAll(/\{(\w+):[A-Za-z0-9()]+\}/g)].map((m) => m[1]));
      expect([...used].sort()).toEqual(Object.keys(s.params).sort());
    }
  });
});
