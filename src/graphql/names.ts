/** GraphQL naming for model members: one place decides how "ad_performance.cost_per_click" is spelled. */

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

/** "cost_per_click" -> "costPerClick" (a leading digit gets an underscore: GraphQL names cannot start with one). */
export function camelName(name: string): string {
  const w = words(name);
  const out = w.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join('');
  return safeStart(out || '_');
}

/** "ad_performance" -> "AdPerformance" */
export function pascalName(name: string): string {
  const out = words(name)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
  return safeStart(out || '_');
}

/** "high_spend" -> "HIGH_SPEND" (enum values). */
export function enumValueName(name: string): string {
  const out = safeStart(words(name).join('_').toUpperCase() || '_');
  return out === 'TRUE' || out === 'FALSE' || out === 'NULL' ? `${out}_` : out;
}

function safeStart(name: string): string {
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/**
 * Hands out GraphQL names and fails loudly on a collision (two members spelled the same after
 * camel-casing, or a cube named like a built-in field), instead of silently dropping one.
 */
export class NameRegistry {
  private readonly taken = new Map<string, string>();
  constructor(private readonly scope: string) {}

  claim(graphqlName: string, owner: string): string {
    const prev = this.taken.get(graphqlName);
    if (prev !== undefined && prev !== owner) {
      throw new Error(`GraphQL name collision in ${this.scope}: "${owner}" and "${prev}" both map to "${graphqlName}"; rename one of them in the model`);
    }
    this.taken.set(graphqlName, owner);
    return graphqlName;
  }
}
