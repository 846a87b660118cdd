/** The catalog's join keys (what the SQL proxy accepts as the model's JOIN … ON): derived from join SQL, never naming a hidden dimension. */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { buildCatalog } from '../../../src/query/catalog.js';
import { loadModel } from '../../../src/semantic/load.js';

const principal = (scopes: string[]): Principal => ({ tenantId: 'acme', scopes: new Set(scopes), subject: 't', via: 'jwt', roles: [] });

const MODEL = `
cubes:
  - name: orders
    sql_table: orders
    tenant_column: tenant_id
    joins:
      - name: customers
        relationship: many_to_one
        sql: "{CUBE}.tenant_id = {customers}.tenant_id AND {CUBE}.customer_id = {customers}.id"
      - name: secrets
        relationship: many_to_one
        sql: "{CUBE}.secret_id = {secrets}.id"
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        type: string
        sql: id
        primary_key: true
      - name: customer_id
        type: string
        sql: "{CUBE}.customer_id"
      - name: secret_id
        type: string
        sql: secret_id
        scopes: [finance:read]
  - name: customers
    sql_table: customers
    tenant_column: tenant_id
    dimensions:
      - name: id
        type: string
        sql: "{CUBE}.id"
        primary_key: true
  - name: secrets
    sql_table: secrets
    tenant_column: tenant_id
    dimensions:
      - name: id
        type: string
        sql: id
        primary_key: true
`;

const model = loadModel([{ path: 'cube-models/join-keys.yml', text: MODEL }]);
const joinsOf = (scopes: string[]) => buildCatalog(model, principal(scopes)).find((c) => c.name === 'orders')!.joins;

describe('catalog join keys', () => {
  it('are the join SQL as dimension pairs, the tenant equality left out', () => {
    expect(joinsOf(['metrics:read', 'finance:read'])).toEqual([
      { target: 'customers', relationship: 'many_to_one', keys: [['customer_id', 'id']] },
      { target: 'secrets', relationship: 'many_to_one', keys: [['secret_id', 'id']] },
    ]);
  });

  it('are left out when a key dimension is hidden from the caller', () => {
    expect(joinsOf(['metrics:read'])).toEqual([
      { target: 'customers', relationship: 'many_to_one', keys: [['customer_id', 'id']] },
      { target: 'secrets', relationship: 'many_to_one' },
    ]);
  });
});
