import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

const CUBE = (preAggregations: string) => `cubes:
  - name: orders
    sql_table: orders
    tenant_column: tenant_id
    measures:
      - name: count
        type: count
        sql: id
      - name: amount
        type: sum
        sql: amount
      - name: avg_amount
        type: avg
        sql: amount
      - name: buyers
        type: count_distinct
        sql: buyer_id
      - name: approx_buyers
        type: count_distinct_approx
        sql: buyer_id
      - name: per_order
        type: number
        sql: "{CUBE.amount} / nullIf({CUBE.count}, 0)"
      - name: raw_ratio
        type: number
        sql: "sum(amount) / count()"
      - name: per_avg
        type: number
        sql: "{CUBE.amount} / nullIf({CUBE.avg_amount}, 0)"
    dimensions:
      - name: id
        type: string
        sql: id
        primary_key: true
      - name: status
        type: string
        sql: status
      - name: created_at
        type: time
        sql: created_at
    segments:
      - name: big
        sql: "{CUBE}.amount > 100"
    pre_aggregations:
${preAggregations}`;

describe('pre_aggregations (rollups) in the model', () => {
  it('a valid rollup loads: members by CUBE.x or bare name, defaults filled in', () => {
    const model = load(
      CUBE(`      - name: daily
        type: rollup
        measures: [CUBE.count, amount, buyers, per_order]
        dimensions: [status]
        segments: [big]
        time_dimension: CUBE.created_at
        granularity: day
        refresh_key:
          every: 1 minute
`),
    );
    expect(model.cubes.orders.preAggregations).toEqual([
      {
        name: 'daily',
        cube: 'orders',
        measures: ['count', 'amount', 'buyers', 'per_order'],
        dimensions: ['status'],
        segments: ['big'],
        timeDimension: 'created_at',
        granularity: 'day',
        partitionGranularity: 'month',
        refreshEverySeconds: 60,
        location: { file: 'm1.yml', line: 45 },
      },
    ]);
  });

  it('explains why a measure cannot be stored, and every other mistake, with its line', () => {
    expect(
      problems(
        CUBE(`      - name: bad
        measures: [avg_amount, approx_buyers, raw_ratio, per_avg, nope, customers.count]
        dimensions: [stauts]
        time_dimension: status
        granularity: hour
        partition_granularity: fortnight
        refresh_key:
          sql: SELECT max(created_at) FROM orders
      - name: bad
        type: original_sql
        measures: [count]
      - name: lonely
        measures: [count]
        granularity: month
`),
      ),
    ).toEqual([
      'm1.yml:46: pre_aggregation "orders.bad": measure "avg_amount" cannot be stored in a rollup: an average is not additive: averages of groups do not combine into the average of their rows; declare sum and count measures and a number measure dividing them',
      'm1.yml:46: pre_aggregation "orders.bad": measure "approx_buyers" cannot be stored in a rollup: approximate distinct counts (uniq) do not merge into the same estimate; use count_distinct, which a rollup stores as an exact state',
      'm1.yml:46: pre_aggregation "orders.bad": measure "raw_ratio" cannot be stored in a rollup: a number measure with its own aggregate SQL: Strata cannot tell how groups of it combine',
      'm1.yml:46: pre_aggregation "orders.bad": measure "per_avg" cannot be stored in a rollup: it is computed from orders.avg_amount, which cannot be stored: an average is not additive: averages of groups do not combine into the average of their rows; declare sum and count measures and a number measure dividing them',
      'm1.yml:46: pre_aggregation "orders.bad": measures names unknown measure "nope"',
      'm1.yml:46: pre_aggregation "orders.bad": "customers.count" belongs to another cube: a rollup stores members of its own cube (rollup_join is not supported)',
      'm1.yml:47: pre_aggregation "orders.bad": dimensions names unknown dimension "stauts" -> status',
      'm1.yml:48: pre_aggregation "orders.bad": "status" is not a time dimension',
      'm1.yml:49: pre_aggregation "orders.bad": granularity hour is finer than a day; rollups are built by day, week, month, quarter, year',
      'm1.yml:50: pre_aggregation "orders.bad": unknown partition_granularity "fortnight"',
      'm1.yml:52: refresh_key of pre_aggregation "orders.bad": sql is not used — Strata refreshes a rollup on every insert; "every" sets how often other writers\' rows are folded in',
      'm1.yml:53: pre_aggregation "orders.bad": is declared twice',
      'm1.yml:54: pre_aggregation "orders.bad": type original_sql is a Cube pre-aggregation Strata does not build; Strata builds type rollup (maintained on every insert)',
      'm1.yml:58: pre_aggregation "orders.lonely": granularity needs a time_dimension',
    ]);
  });

  it('Cube keys Strata does not use are named as such', () => {
    expect(problems(CUBE(`      - name: r\n        measures: [count]\n        indexes: []\n`))).toEqual([
      'm1.yml:47: "indexes" in pre_aggregation "orders.r" is a Cube feature Strata does not support',
    ]);
  });
});
