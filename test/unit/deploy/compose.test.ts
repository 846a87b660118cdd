/**
 * docker-compose.yml cannot be started here (no Docker engine), so its shape is checked instead:
 * every service restarts and has a healthcheck, Strata waits for healthy servers, every setting it
 * passes exists in src/config.ts, and the SQL proxy is set up for TLS with mounted files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: string;
  restart?: string;
  healthcheck?: { test: string[] | string; interval?: string; retries?: number };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  secrets?: string[];
  ports?: string[];
}
const root = process.cwd();
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
};
const strata = compose.services.strata!;
/** The variable names config.ts's EnvSchema reads. */
const schemaText = /const EnvSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(readFileSync(join(root, 'src/config.ts'), 'utf8'))![1]!;
const known = new Set([...schemaText.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));

describe('docker-compose.yml', () => {
  it('runs ClickHouse, Postgres and Strata, each with a restart policy and a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['clickhouse', 'postgres', 'strata']);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.restart, name).toMatch(/^(always|unless-stopped|on-failure)/);
      expect(s.healthcheck?.test, name).toBeTruthy();
    }
  });

  it("checks Strata's health with node (the slim image has no curl or wget) and waits for healthy servers", () => {
    expect((strata.healthcheck!.test as string[])[1]).toBe('node');
    expect(strata.depends_on).toEqual({ clickhouse: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
  });

  it('passes Strata only settings that src/config.ts reads', () => {
    expect(known.has('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK')).toBe(true);
    for (const key of Object.keys(strata.environment!)) expect(known.has(key), key).toBe(true);
  });

  it('serves the SQL proxy with TLS from mounted files', () => {
    const env = strata.environment!;
    for (const [key, secret] of [
      ['SQL_PROXY_TLS_CERT', 'sqlproxy_tls_cert'],
      ['SQL_PROXY_TLS_KEY', 'sqlproxy_tls_key'],
    ] as const) {
      expect(env[key]).toBe(`/run/secrets/${secret}`);
      expect(strata.secrets).toContain(secret);
      expect(compose.secrets?.[secret]?.file).toBeTruthy();
    }
    expect(env.SQL_PROXY_ALLOW_CLEARTEXT_NETWORK).toBeUndefined();
    expect(strata.ports).toContain('15432:15432');
  });
});
