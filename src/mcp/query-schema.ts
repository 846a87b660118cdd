/**
 * The JSON Schema of a semantic query, as zod (the MCP SDK publishes it with each tool): every
 * operator, granularity, the relative-date grammar and compareTo are in the descriptions, so a
 * model can write a correct query from the tool list alone. Unknown keys are refused, not dropped.
 */
import { z } from 'zod';
import { FILTER_OPERATORS_BY_TYPE, OPERATOR_MEANINGS, QUERY_GRAMMAR } from '../query/agent-catalog.js';
import { COMPARISON_PERIODS, FILTER_OPERATORS, GRANULARITIES } from '../semantic/query.js';

const member = z.string().describe('A member path "cube.member" from search_catalog / describe.');

const DATE_RANGE = `A relative phrase or [from, to]. ${QUERY_GRAMMAR.relativeDateRanges.join('; ')}. Weeks start ${QUERY_GRAMMAR.weekStart}; time zone: ${QUERY_GRAMMAR.timeZone}.`;
const dateRange = z.union([z.string(), z.tuple([z.string(), z.string()])]).describe(DATE_RANGE);

const operators = FILTER_OPERATORS.filter((o) => o !== 'measureFilter');
const OPERATOR_DOC = `${operators.map((o) => `${o}: ${OPERATOR_MEANINGS[o] ?? ''}`).join('; ')}. By member type — string: ${FILTER_OPERATORS_BY_TYPE.string.join(', ')}; number: ${FILTER_OPERATORS_BY_TYPE.number.join(', ')}; time: ${FILTER_OPERATORS_BY_TYPE.time.join(', ')}; boolean: ${FILTER_OPERATORS_BY_TYPE.boolean.join(', ')}; measures (filter after aggregation): ${FILTER_OPERATORS_BY_TYPE.measure.join(', ')}.`;

const memberFilter = z.strictObject({
  member,
  operator: z.enum(operators as [string, ...string[]]).describe(OPERATOR_DOC),
  values: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('Values as strings or numbers; dates "YYYY-MM-DD". Omit for set/notSet.'),
});

const filter = z.union([
  memberFilter,
  z.strictObject({ and: z.array(z.record(z.string(), z.unknown())).describe('Filters that must all hold (same shapes).') }),
  z.strictObject({ or: z.array(z.record(z.string(), z.unknown())).describe('Filters of which one must hold (same shapes).') }),
]);

export const semanticQuerySchema = z
  .strictObject({
    measures: z.array(member).optional().describe('Numbers to compute (aggregated over the rows each group covers).'),
    dimensions: z
      .array(member)
      .optional()
      .describe('Group by these (string, number, boolean or time members; time without a granularity groups by the raw value).'),
    segments: z.array(member).optional().describe('Predefined filters by name (ANDed).'),
    timeDimensions: z
      .array(
        z.strictObject({
          dimension: member.describe('A time dimension, e.g. "ad_performance.date".'),
          granularity: z
            .enum(GRANULARITIES)
            .optional()
            .describe(`Bucket size: ${GRANULARITIES.join(', ')}; omit to only filter by dateRange.`),
          dateRange: dateRange.optional(),
        }),
      )
      .optional()
      .describe('Time filter and/or bucketing. Use exactly one with a dateRange to compare periods.'),
    filters: z.array(filter).optional().describe('Member filters, ANDed; nest {and: [...]} / {or: [...]} for logic.'),
    order: z
      .record(z.string(), z.enum(['asc', 'desc']))
      .optional()
      .describe(
        '{"cube.member": "desc"} in priority order; a time dimension at a granularity is "cube.date" too. Default: first time dimension asc, else first measure desc.',
      ),
    limit: z.number().int().min(1).max(50_000).optional().describe(QUERY_GRAMMAR.limits),
    offset: z.number().int().min(0).optional(),
    timezone: z.string().optional().describe('IANA time zone, default UTC.'),
    total: z.boolean().optional().describe('Also return the row count without limit/offset.'),
    compareTo: z
      .strictObject({
        period: z.enum(COMPARISON_PERIODS).optional(),
        dateRange: dateRange.optional(),
      })
      .optional()
      .describe(QUERY_GRAMMAR.comparison),
  })
  .describe(`A semantic query (Cube's query format). ${QUERY_GRAMMAR.units}. ${QUERY_GRAMMAR.emptyAnswer}.`);

export type SemanticQueryInput = z.infer<typeof semanticQuerySchema>;
