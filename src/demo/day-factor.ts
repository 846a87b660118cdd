/**
 * How busy a day is for a tenant: weekly pattern x yearly season x growth trend. The same
 * formula exists in SQL (DAY_FACTOR_SQL) for the generated facts and in JS to normalise rates,
 * so totals stay close to the targets whatever the tenant's pattern.
 */
import type { DemoCalendar } from './dates.js';
import { DEMO_DAYS } from './tenants.js';

export interface DayShape {
  readonly weekendFactor: number;
  readonly seasonAmplitude: number;
  readonly seasonPeakDay: number;
  readonly growth: number;
}

export function dayFactor(shape: DayShape, cal: DemoCalendar, day: number): number {
  const dow = cal.dayOfWeek(day);
  const weekly = dow >= 6 ? shape.weekendFactor : 1 + 0.04 * (3 - Math.abs(dow - 3));
  const season = 1 + shape.seasonAmplitude * Math.cos((2 * Math.PI * (cal.dayOfYear(day) - shape.seasonPeakDay)) / 365);
  const trend = 1 + (shape.growth * day) / DEMO_DAYS;
  return weekly * season * trend;
}

export function meanDayFactor(shape: DayShape, cal: DemoCalendar, firstDay = 0, lastDay = DEMO_DAYS - 1): number {
  let sum = 0;
  for (let d = firstDay; d <= lastDay; d++) sum += dayFactor(shape, cal, d);
  return sum / Math.max(1, lastDay - firstDay + 1);
}

/**
 * SQL twin of dayFactor over a row with columns weekend_factor, season_amp, season_peak, growth
 * and an expression for the date. {start:Date} is the first demo day.
 */
export function dayFactorSql(date: string): string {
  return `(if(toDayOfWeek(${date}) >= 6, weekend_factor, 1 + 0.04 * (3 - abs(toInt32(toDayOfWeek(${date})) - 3)))
    * (1 + season_amp * cos(2 * pi() * (toDayOfYear(${date}) - season_peak) / 365))
    * (1 + growth * dateDiff('day', {start:Date}, ${date}) / ${DEMO_DAYS}))`;
}
