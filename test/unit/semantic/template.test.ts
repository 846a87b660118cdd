import { describe, expect, it } from 'vitest';
import { parseSqlTemplate } from '../../../src/semantic/template.js';

describe('parseSqlTemplate', () => {
  const ctx = { cube: 'orders', cubeNames: new Set(['orders', 'customers']) };
  it('prefixes a bare column with its cube, like Cube', () => {
    expect(parseSqlTemplate('campaign_id', ctx).parts).toEqual([
      { kind: 'cube', cube: 'orders' },
      { kind: 'text', text: '.campaign_id' },
    ]);
  });
  it('leaves literals, expressions and references alone', () => {
    expect(parseSqlTemplate('NULL', ctx).parts).toEqual([{ kind: 'text', text: 'NULL' }]);
    expect(parseSqlTemplate('a + b', ctx).parts).toEqual([{ kind: 'text', text: 'a + b' }]);
    expect(parseSqlTemplate('{CUBE}.x', ctx).parts).toEqual([
      { kind: 'cube', cube: 'orders' },
      { kind: 'text', text: '.x' },
    ]);
    expect(parseSqlTemplate("{customers.name} = 'it''s {x}'", ctx).parts).toEqual([
      { kind: 'member', cube: 'customers', member: 'name' },
      { kind: 'text', text: " = 'it''s {x}'" },
    ]);
  });
});
