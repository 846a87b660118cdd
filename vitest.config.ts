import { defineConfig } from 'vitest/config';

// libchdb binds one data directory per process, so every test file runs in its own fork.
export default defineConfig({
  // graphql ships ESM (index.mjs) and CJS (index.js) builds; vite picks the ESM one for our sources
  // while Pothos/yoga (externalized) load the CJS one -> "Cannot use GraphQLSchema from another
  // module or realm". One instance for everyone:
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    pool: 'forks',
    poolOptions: { forks: { singleFork: false } },
    isolate: true,
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
