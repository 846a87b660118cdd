/**
 * Subscription execution shared by identical subscribers.
 *
 * The live hub hands the SAME result object to every watcher of a shared query. Subscribers
 * whose operation is the same (document, operation name, variables) and whose principals have
 * the same tenant and scope set would each compute the same payload from it, so the payload is
 * computed once per (result, operation, scope set) and every such subscriber sends that one
 * ExecutionResult. With thousands of watchers per query this turns N GraphQL executions per
 * change into one.
 *
 * Drop-in for graphql-js `subscribe` (graphql-ws's `subscribe` option): same source stream
 * (`createSourceEventStream`), same per-event `execute({ ...args, rootValue: event })`.
 */
import {
  createSourceEventStream,
  execute,
  GraphQLError,
  parse,
  print,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { markShared } from './ws-fanout.js';

/** The part of the context that can change a payload (tenant + scope set); undefined: never share. */
export type ShareKeyOf = (contextValue: unknown) => string | undefined;

type Payload = ExecutionResult | Promise<ExecutionResult>;

export function createSharedSubscribe(shareKeyOf: ShareKeyOf): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const texts = new WeakMap<DocumentNode, string>();
  /** Per event object: payload by operation key. Entries die with the event (a superseded result). */
  const payloads = new WeakMap<object, Map<string, Payload>>();

  const textOf = (doc: DocumentNode): string => {
    let t = texts.get(doc);
    if (t === undefined) texts.set(doc, (t = print(doc)));
    return t;
  };

  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source; // errors before the stream started
    const who = shareKeyOf(args.contextValue);
    const key = who === undefined ? undefined : `${who}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${textOf(args.document)}`;
    const run = (event: unknown): Payload => execute({ ...args, rootValue: event });
    return mapIterator(source, (event) => {
      if (key === undefined || event === null || typeof event !== 'object') return run(event);
      let byKey = payloads.get(event);
      if (!byKey) payloads.set(event, (byKey = new Map()));
      let payload = byKey.get(key);
      if (!payload) {
        // Shared by every subscriber with this key: serialized once (ws-fanout.ts).
        const result = run(event);
        payload = result instanceof Promise ? result.then(markShared) : markShared(result);
        byKey.set(key, payload);
      }
      return payload;
    });
  };
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** Maps each value; return()/throw() reach the source so an ended subscription detaches at once. */
function mapIterator<T, U>(source: AsyncIterable<T>, fn: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  const it = source[Symbol.asyncIterator]();
  const done = (): IteratorResult<U> => ({ value: undefined, done: true });
  return {
    async next() {
      const r = await it.next();
      return r.done ? done() : { value: await fn(r.value), done: false };
    },
    async return() {
      await it.return?.();
      return done();
    },
    async throw(error?: unknown) {
      if (it.throw) await it.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export type CheckedDocument = { readonly document: DocumentNode } | { readonly errors: readonly GraphQLError[] };

/** Parse + validate by operation text, remembered for the most recent `max` texts. */
export function createDocumentCache(schema: GraphQLSchema, rules: readonly ValidationRule[], max = 1_000): { check(text: string): CheckedDocument } {
  const byText = new Map<string, CheckedDocument>();
  return {
    check(text) {
      const hit = byText.get(text);
      if (hit) return hit;
      let checked: CheckedDocument;
      try {
        const document = parse(text);
        const errors = validate(schema, document, rules);
        checked = errors.length > 0 ? { errors } : { document };
      } catch (e) {
        checked = { errors: [e instanceof GraphQLError ? e : new GraphQLError(String((e as Error).message ?? e))] };
      }
      if (byText.size >= max) byText.delete(byText.keys().next().value!);
      byText.set(text, checked);
      return checked;
    },
  };
}
