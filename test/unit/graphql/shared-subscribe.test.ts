import { GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, specifiedRules, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentCache, createSharedSubscribe } from '../../../src/graphql/shared-subscribe.js';

/** A live source: every subscriber of the test's stream receives the SAME event objects. */
function setup() {
  let resolved = 0;
  const listeners = new Set<(e: object) => void>();
  let returned = 0;
  const Row = new GraphQLObjectType({
    name: 'Row',
    fields: {
      name: { type: GraphQLString },
      doubled: {
        type: GraphQLInt,
        resolve: (r: { n: number }) => {
          resolved++;
          return r.n * 2;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        rows: {
          type: new GraphQLList(Row),
          subscribe: () => {
            const queue: object[] = [];
            let wake: (() => void) | undefined;
            const push = (e: object) => {
              queue.push(e);
              wake?.();
            };
            listeners.add(push);
            const it: AsyncIterableIterator<object> = {
              async next() {
                while (queue.length === 0) await new Promise<void>((r) => (wake = r));
                return { value: queue.shift()!, done: false };
              },
              async return() {
                returned++;
                listeners.delete(push);
                return { value: undefined, done: true };
              },
              [Symbol.asyncIterator]() {
                return this;
              },
            };
            return it;
          },
          resolve: (e: { rows: unknown[] }) => e.rows,
        },
      },
    }),
  });
  return {
    schema,
    emit: (e: object) => {
      for (const l of listeners) l(e);
    },
    resolved: () => resolved,
    returned: () => returned,
  };
}

const doc = parse('subscription { rows { name doubled } }');

describe('shared subscription execution', () => {
  it('subscribers with the same operation and share key execute each event once and get the same result', async () => {
    const t = setup();
    const subscribe = createSharedSubscribe((ctx) => (ctx as { key?: string }).key);
    const its = (await Promise.all(
      [{ key: 'acme|metrics:read' }, { key: 'acme|metrics:read' }, { key: 'acme|metrics:read' }, { key: 'acme|finance:read metrics:read' }].map(
        (contextValue) => subscribe({ schema: t.schema, document: doc, contextValue }),
      ),
    )) as AsyncIterableIterator<ExecutionResult>[];
    const event = {
      rows: [
        { name: 'a', n: 1 },
        { name: 'b', n: 2 },
      ],
    };
    const next = its.map((it) => it.next());
    t.emit(event);
    const results = (await Promise.all(next)).map((r) => r.value as ExecutionResult);
    expect(results[0]).toEqual({
      data: {
        rows: [
          { name: 'a', doubled: 2 },
          { name: 'b', doubled: 4 },
        ],
      },
    });
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
    expect(results[3]).not.toBe(results[0]); // another scope set: its own execution
    expect(results[3]).toEqual(results[0]);
    expect(t.resolved()).toBe(4); // 2 rows x 2 executions, not 2 rows x 4 subscribers

    // a new event object is a new result: executed again
    const again = its.map((it) => it.next());
    t.emit({ rows: [{ name: 'c', n: 5 }] });
    expect((await Promise.all(again)).map((r) => (r.value as ExecutionResult).data)).toEqual(Array(4).fill({ rows: [{ name: 'c', doubled: 10 }] }));
    expect(t.resolved()).toBe(6);

    // return() reaches the source (the live subscription detaches)
    await Promise.all(its.map((it) => it.return!()));
    expect(t.returned()).toBe(4);
  });

  it('without a share key every subscriber executes on its own', async () => {
    const t = setup();
    const subscribe = createSharedSubscribe(() => undefined);
    const its = (await Promise.all(
      [1, 2].map(() => subscribe({ schema: t.schema, document: doc, contextValue: {} })),
    )) as AsyncIterableIterator<ExecutionResult>[];
    const next = its.map((it) => it.next());
    t.emit({ rows: [{ name: 'a', n: 1 }] });
    const [a, b] = (await Promise.all(next)).map((r) => r.value);
    expect(a).not.toBe(b);
    expect(t.resolved()).toBe(2);
  });
});

describe('document cache (subscribe messages)', () => {
  it('parses and validates a text once and shares the document; bad texts answer their errors', () => {
    const cache = createDocumentCache(setup().schema, specifiedRules, 2);
    const a = cache.check('subscription { rows { name } }');
    expect(cache.check('subscription { rows { name } }')).toBe(a);
    expect('document' in a).toBe(true);
    const unknown = cache.check('subscription { rows { nope } }');
    expect('errors' in unknown && unknown.errors[0].message).toBe('Cannot query field "nope" on type "Row". Did you mean "name"?');
    const syntax = cache.check('subscription { rows {');
    expect('errors' in syntax && syntax.errors[0].message).toMatch(/^Syntax Error/);
    // bounded: the oldest text is parsed again
    expect(cache.check('subscription { rows { name } }')).not.toBe(a);
  });
});
