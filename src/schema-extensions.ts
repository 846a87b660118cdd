/** Every module that adds GraphQL fields beyond the model's, in one list (server and print-schema). */
import { adminExtensions } from './graphql/admin/extension.js';
import type { SchemaExtension } from './graphql/build-schema.js';
import type { IngestService } from './ingest/ingest-service.js';
import { liveSubscriptions } from './graphql/subscriptions.js';
import type { LiveService } from './live/live-service.js';
import type { QueryService } from './query/types.js';
import type { Model } from './semantic/model.js';
import type { Store } from './store/store.js';

export interface ExtensionDeps {
  readonly model: Model;
  readonly live: LiveService;
  readonly store: Store;
  readonly ingest: IngestService;
  readonly query: QueryService;
}

export function strataExtensions(deps: ExtensionDeps): SchemaExtension[] {
  return [liveSubscriptions(deps.live, deps.model), ...adminExtensions({ store: deps.store, ingest: deps.ingest, query: deps.query })];
}

/** For printing the SDL: the dependencies are only touched when a resolver runs. */
export function printOnlyExtensions(model: Model): SchemaExtension[] {
  // Any property read yields the same stand-in; only a call (a resolver running) throws.
  const unused: object = new Proxy(() => undefined, {
    get: () => unused,
    apply: () => {
      throw new Error('print-only schema cannot execute');
    },
  });
  return strataExtensions({ model, live: unused as LiveService, store: unused as Store, ingest: unused as IngestService, query: unused as QueryService });
}
