# Strata server image. The embedded engines are not used in this deployment shape:
# CLICKHOUSE_URL and DATABASE_URL point at real servers (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm i --no-save tsx
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 SQL_PROXY_HOST=0.0.0.0
EXPOSE 4000 15432
CMD ["npx", "tsx", "src/main.ts", "serve"]
