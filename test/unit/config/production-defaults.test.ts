/** Production refuses weak JWT secrets at start (CONFIG_INVALID), and reads the demo end date. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_JWT_SECRET, loadConfig, MIN_PRODUCTION_SECRET_BYTES } from '../../../src/config.js';

const production = (env: Record<string, string>) => () => loadConfig({ STRATA_ENV: 'production', ...env });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('JWT secrets in production', () => {
  it(`refuses a secret shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes with CONFIG_INVALID and a way out`, () => {
    const e = configError(production({ JWT_SECRET: 'short-secret' }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(
      'invalid configuration:\n  JWT_SECRET must be at least 32 bytes in production (it has 12); generate one with: openssl rand -base64 48',
    );
    expect(configError(production({ JWT_SECRET: 'x'.repeat(31) })).message).toContain('(it has 31)');
    // bytes, not characters: 16 two-byte characters are 32 bytes
    expect(loadConfig({ STRATA_ENV: 'production', JWT_SECRET: 'é'.repeat(16) }).auth.jwtSecret).toBe('é'.repeat(16));
  });

  it('accepts 32 bytes and more, and JWKS without a secret', () => {
    expect(production({ JWT_SECRET: 'x'.repeat(32) })().auth.jwtSecret).toHaveLength(32);
    expect(production({ JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json' })().auth.jwtSecret).toBeUndefined();
  });

  it('still refuses no secret and the development secret', () => {
    expect(configError(production({})).message).toContain('JWT_SECRET or JWT_JWKS_URL is required in production');
    expect(configError(production({ JWT_SECRET: DEV_JWT_SECRET })).message).toContain('must not be the development secret');
  });

  it('allows short secrets outside production', () => {
    expect(loadConfig({ STRATA_ENV: 'development', JWT_SECRET: 'dev' }).auth.jwtSecret).toBe('dev');
    expect(loadConfig({ STRATA_ENV: 'test', JWT_SECRET: 'test' }).auth.jwtSecret).toBe('test');
  });
});

describe('DEMO_END_DATE', () => {
  it('is unset (yesterday at seed time) by default or when empty, else a calendar date', () => {
    expect(loadConfig({ STRATA_ENV: 'test' }).demo.endDate).toBeUndefined();
    expect(loadConfig({ STRATA_ENV: 'test', DEMO_END_DATE: '' }).demo.endDate).toBeUndefined();
    expect(loadConfig({ STRATA_ENV: 'test', DEMO_END_DATE: '2026-10-31' }).demo.endDate).toBe('2026-10-31');
    expect(configError(() => loadConfig({ STRATA_ENV: 'test', DEMO_END_DATE: '2026-02-30' })).message).toContain('DEMO_END_DATE: must be a calendar date');
    expect(configError(() => loadConfig({ STRATA_ENV: 'test', DEMO_END_DATE: 'yesterday' })).message).toContain('DEMO_END_DATE: must be a date YYYY-MM-DD');
  });
});
