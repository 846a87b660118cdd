/** DATA_RETENTION_*: off by default; plan days parsed, bounded, and replacing the built-in table. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

const load = (env: Record<string, string>) => loadConfig({ STRATA_ENV: 'test', ...env });

describe('retention configuration', () => {
  it('is off unless enabled; the plan days are the built-in ones unless given', () => {
    expect(load({}).retention).toEqual({ enabled: false });
    expect(load({ DATA_RETENTION_ENABLED: 'true' }).retention).toEqual({ enabled: true });
  });

  it('reads plan:days pairs; an empty value keeps everything', () => {
    expect(load({ DATA_RETENTION_PLAN_DAYS: 'free:30,pro:365,enterprise:' }).retention.planDays).toEqual({ free: 30, pro: 365, enterprise: undefined });
  });

  it('refuses malformed pairs and days out of 1-36500', () => {
    for (const v of ['free', 'free:0', 'free:99999', 'Free:30', 'free:30;pro:1']) {
      expect(() => load({ DATA_RETENTION_PLAN_DAYS: v }), v).toThrow(ConfigError);
    }
  });
});
