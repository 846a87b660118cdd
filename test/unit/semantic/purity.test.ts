import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN = /from '(node:)?(fs|fs\/promises|net|http|child_process)'|from '(pg|@clickhouse\/client|chdb|jose|graphql)'/;

describe('src/semantic stays pure', () => {
  it('imports no I/O or engine modules', () => {
    const files = readdirSync('src/semantic', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) => FORBIDDEN.test(readFileSync(path.join('src/semantic', f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
