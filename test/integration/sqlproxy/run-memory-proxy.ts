/** Manual harness: a proxy over the in-memory service (npx tsx ... [port]). */
import { createLogger } from '../../../src/logger.js';
import { startSqlProxy } from '../../../src/sqlproxy/server.js';
import { authenticator, memoryQueryService } from './memory-service.js';

const proxy = await startSqlProxy({
  config: { enabled: true, port: Number(process.argv[2] ?? 0), host: '127.0.0.1' },
  query: memoryQueryService(),
  authenticator,
  logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
});
console.log(`listening on ${proxy.port}`);
