import { describe, expect, it } from 'vitest';
import { clickhouseDialect } from '../../../src/compiler/clickhouse/dialect.js';
import { type Expr, ParamBag } from '../../../src/compiler/plan-tree.js';
import { printFragments } from '../../../src/compiler/printer.js';
import { atOrBefore, timeBound } from '../../../src/compiler/time-bounds.js';

const tz = (zone: string): Expr => ({ kind: 'param', name: 'tz', type: 'String', value: zone });
const x: Expr = { kind: 'raw', sql: '`t`.at' };

function print(build: (params: ParamBag) => Expr) {
  const { sql, params } = printFragments([{ expr: build(new ParamBag()) }], clickhouseDialect);
  const { tz: _tz, ...values } = params;
  return { sql, params: values };
}

describe('time bounds', () => {
  it('whole seconds compare as DateTime; other milliseconds keep DateTime64(3)', () => {
    expect(print((p) => timeBound(p, tz('UTC'), '2026-08-01T00:00:00.000'))).toEqual({
      sql: 'toDateTime({p0:String}, {tz:String})',
      params: { p0: '2026-08-01 00:00:00' },
    });
    expect(print((p) => timeBound(p, tz('UTC'), '2026-08-01T10:00:00.250'))).toEqual({
      sql: 'toDateTime64({p0:String}, 3, {tz:String})',
      params: { p0: '2026-08-01T10:00:00.250' },
    });
  });

  it("an inclusive end at a second's last millisecond is the next second, exclusive", () => {
    expect(print((p) => atOrBefore(p, tz('Europe/Berlin'), x, '2026-10-31T23:59:59.999'))).toEqual({
      sql: '`t`.at < toDateTime({p0:String}, {tz:String})',
      params: { p0: '2026-11-01 00:00:00' },
    });
  });

  it('keeps the millisecond bound when the next second does not exist in the zone (a DST gap at midnight)', () => {
    // Chile moves its clocks from 00:00 to 01:00 on 2026-09-06: local midnight does not exist.
    expect(print((p) => atOrBefore(p, tz('America/Santiago'), x, '2026-09-05T23:59:59.999'))).toEqual({
      sql: '`t`.at <= toDateTime64({p0:String}, 3, {tz:String})',
      params: { p0: '2026-09-05T23:59:59.999' },
    });
  });

  it('gives the same bounds when asked again (answers are remembered per zone and value)', () => {
    for (let round = 0; round < 3; round++) {
      expect(print((p) => atOrBefore(p, tz('America/Santiago'), x, '2026-09-05T23:59:59.999')).sql).toBe('`t`.at <= toDateTime64({p0:String}, 3, {tz:String})');
      expect(print((p) => atOrBefore(p, tz('Europe/Berlin'), x, '2026-09-05T23:59:59.999')).params).toEqual({ p0: '2026-09-06 00:00:00' });
      expect(print((p) => atOrBefore(p, tz('Europe/Berlin'), x, '2026-09-05T23:59:58.500')).sql).toBe('`t`.at <= toDateTime64({p0:String}, 3, {tz:String})');
    }
  });
});
