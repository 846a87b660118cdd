import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('SQL_PROXY_ALLOW_CLEARTEXT_NETWORK', () => {
  it('is off by default', () => {
    expect(loadConfig({ STRATA_ENV: 'test' }).sqlProxy.allowCleartextNetwork).toBe(false);
  });

  it('is an explicit opt-in', () => {
    expect(loadConfig({ STRATA_ENV: 'test', SQL_PROXY_ALLOW_CLEARTEXT_NETWORK: 'true' }).sqlProxy.allowCleartextNetwork).toBe(true);
    expect(loadConfig({ STRATA_ENV: 'test', SQL_PROXY_ALLOW_CLEARTEXT_NETWORK: 'false' }).sqlProxy.allowCleartextNetwork).toBe(false);
  });

  it('refuses a value that is not a boolean', () => {
    expect(() => loadConfig({ STRATA_ENV: 'test', SQL_PROXY_ALLOW_CLEARTEXT_NETWORK: 'maybe' })).toThrow(ConfigError);
  });
});
