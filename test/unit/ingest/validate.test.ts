import { describe, expect, it } from 'vitest';
import { columnSpec, parseColumnType, type TableSchema } from '../../../src/ingest/table-schema.js';
import { compileRowEncoder, compileValidator } from '../../../src/ingest/validate.js';

/** Shaped like the ad_performance migration: what system.columns reports. */
const AD_PERFORMANCE: TableSchema = {
  table: 'ad_performance',
  columns: [
    columnSpec('tenant_id', 'LowCardinality(String)'),
    columnSpec('date', 'Date'),
    columnSpec('campaign_id', 'String'),
    columnSpec('platform', "Enum8('google' = 1, 'meta' = 2, 'tiktok' = 3)"),
    columnSpec('impressions', 'UInt64'),
    columnSpec('clicks', 'UInt64'),
    columnSpec('conversions', 'UInt32', 'DEFAULT'),
    columnSpec('spend', 'Decimal(18, 4)'),
    columnSpec('updated_at', 'DateTime64(3)', 'DEFAULT'),
    columnSpec('note', 'Nullable(String)'),
    columnSpec('month', 'Date', 'MATERIALIZED'),
  ],
};

const validate = compileValidator(AD_PERFORMANCE, 'acme');
const good = { date: '2024-03-01', campaign_id: 'c1', platform: 'google', impressions: 100, clicks: 10, conversions: 2, spend: 12.5 };

describe('row validation', () => {
  it('accepts a good row and sets the tenant from the credential', () => {
    expect(validate(good)).toEqual({ tenant_id: 'acme', ...good });
  });

  it('coerces numeric strings and normalizes ISO date-times (a zone converts to UTC)', () => {
    expect(validate({ ...good, impressions: '100', spend: '3.25', updated_at: '2024-03-01T10:00:00.123+02:00', note: null })).toEqual({
      tenant_id: 'acme',
      ...good,
      impressions: 100,
      spend: 3.25,
      updated_at: '2024-03-01 08:00:00.123',
      note: null,
    });
    expect((validate({ ...good, updated_at: '2024-03-01T10:00:00' }) as Record<string, unknown>).updated_at).toBe('2024-03-01 10:00:00');
  });

  it.each([
    [{ ...good, tenant_id: 'globex' }, 'field "tenant_id" must not be sent: the tenant comes from the credential'],
    [{ ...good, date: undefined }, 'missing required field "date"'],
    [{ ...good, campaign_id: null }, 'field "campaign_id" must not be null'],
    [{ ...good, date: '2024-02-30' }, 'field "date": expected a date "YYYY-MM-DD", got "2024-02-30"'],
    [{ ...good, date: 20240301 }, 'field "date": expected a date "YYYY-MM-DD", got 20240301'],
    [{ ...good, impressions: 'many' }, 'field "impressions": expected a non-negative integer, got "many"'],
    [{ ...good, impressions: 1.5 }, 'field "impressions": expected a non-negative integer, got 1.5'],
    [{ ...good, clicks: -1 }, 'field "clicks": expected a non-negative integer, got -1'],
    [{ ...good, spend: -3 }, 'field "spend" must not be negative, got -3'],
    [{ ...good, spend: 'NaN' }, 'field "spend": expected a number, got "NaN"'],
    [{ ...good, campaign_id: 42 }, 'field "campaign_id": expected a string, got 42'],
    [{ ...good, platform: 'myspace' }, 'field "platform": expected one of "google", "meta", "tiktok", got "myspace"'],
    [{ ...good, clicks: 101 }, 'clicks (101) must not exceed impressions (100)'],
    [{ ...good, conversions: 11 }, 'conversions (11) must not exceed clicks (10)'],
    [{ ...good, clikcs: 3 }, 'unknown field "clikcs" — did you mean "clicks"?'],
    [{ ...good, month: '2024-03-01' }, 'field "month" is computed by the warehouse and cannot be written'],
    [[1, 2], 'row must be a JSON object, got an array'],
    ['text', 'row must be a JSON object, got string'],
    [null, 'row must be a JSON object, got null'],
  ])('rejects %j: %s', (row, reason) => {
    expect(validate(row)).toBe(reason);
  });

  it('lets defaulted columns be omitted and nullable ones be null', () => {
    const { conversions: _c, ...noConv } = good;
    expect(validate({ ...noConv, note: null })).toEqual({ tenant_id: 'acme', ...noConv, note: null });
  });

  it('parses ClickHouse column types', () => {
    expect(parseColumnType('LowCardinality(Nullable(String))')).toEqual({ kind: { kind: 'string' }, nullable: true });
    expect(parseColumnType("DateTime('UTC')")).toEqual({ kind: { kind: 'datetime', fraction: false }, nullable: false });
    expect(parseColumnType('Int8')).toEqual({ kind: { kind: 'int', min: -128, max: 127 }, nullable: false });
    expect(parseColumnType('Array(String)')).toEqual({ kind: { kind: 'stringArray' }, nullable: false });
    expect(parseColumnType('Array(UInt8)')).toEqual({ kind: { kind: 'other' }, nullable: false });
  });

  it('over many rows, rejects exactly the rows that break a rule', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ ...good, impressions: 1000 + (i % 50), clicks: i % 100 }));
    const expectedBad = rows.filter((r) => r.conversions > r.clicks).length;
    let bad = 0;
    for (const r of rows) if (typeof validate(r) === 'string') bad++;
    expect(expectedBad).toBe(2_000);
    expect(bad).toBe(expectedBad);
  });
});

describe('row encoder (the compact insert form)', () => {
  it('gives values in column order: tenant first, absent values left as holes, materialized columns out', () => {
    const enc = compileRowEncoder(AD_PERFORMANCE, 'acme');
    expect(enc.columns).toEqual(['tenant_id', 'date', 'campaign_id', 'platform', 'impressions', 'clicks', 'conversions', 'spend', 'updated_at', 'note']);
    expect(enc.compact).toBe(true);
    const { conversions: _omitted, ...withoutConversions } = good;
    const values = enc.encode({ ...withoutConversions, note: null }) as unknown[];
    expect(JSON.stringify(values)).toBe('["acme","2024-03-01","c1","google",100,10,null,12.5,null,null]');
    expect(3 in values).toBe(true);
    expect(6 in values).toBe(false); // absent: the DEFAULT applies (null_as_default)
    expect(enc.encode({ ...good, clicks: 101 })).toBe('clicks (101) must not exceed impressions (100)');
  });

  it('is not compact when a Nullable column has a DEFAULT (null and absent differ there)', () => {
    const schema: TableSchema = { table: 't', columns: [columnSpec('a', 'String'), columnSpec('b', 'Nullable(String)', 'DEFAULT')] };
    expect(compileRowEncoder(schema, 'acme').compact).toBe(false);
  });
});
