# Strata server image, built in two stages:
#   build    installs every dependency from the lockfile (lifecycle scripts off: the package's own
#            `prepare` would run before the sources are copied), builds the CLI bundle, then prunes
#            the dev dependencies;
#   runtime  the pruned node_modules, the bundle and what it reads at run time, as a non-root user.
# In docker-compose.yml CLICKHOUSE_URL and DATABASE_URL point at real servers; without them the
# image runs the embedded engines (chDB, PGlite) under DATA_DIR.
#
# test/e2e/deploy/dockerfile-replay.test.ts parses this file and replays its COPY and RUN steps in a
# temporary directory (no Docker engine there): keep every step replayable without root — RUN only
# in the build stage, paths relative to WORKDIR.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs its install script (chdb's is empty; esbuild's binary comes in its optional
# platform package), and the root `prepare` (the CLI bundle) is run explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# build-cli.mjs never fails an install on purpose, so check that the bundle is there.
RUN npm run build:cli && test -f dist/cli/main.mjs && test -f dist/cli/catalog-worker.mjs
# Strata Studio's page (Preact + ECharts from the dev dependencies, bundled; served only when enabled).
RUN npm run build:studio && test -f dist/studio/manifest.json
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 SQL_PROXY_HOST=0.0.0.0 DATA_DIR=/home/node/data
# Owned by root and read-only for the server; it writes only under DATA_DIR (embedded engines).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/cube-models ./cube-models
USER node
EXPOSE 4000 15432
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Other commands: docker compose exec strata node dist/cli/main.mjs <command> (or npx strata <command>).
CMD ["node", "--enable-source-maps", "dist/cli/main.mjs", "serve"]
