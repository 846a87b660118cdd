/**
 * Argument parsing for the CLI on node:util parseArgs (strict), with help text generated from the
 * same option specs, so usage and parser never disagree. Every mistake on the command line becomes
 * one UsageError line (exit 2) instead of a stack trace.
 */
import { parseArgs } from 'node:util';
import { suggest } from '../semantic/suggest.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder shown in help: --tenant ID. */
  readonly value?: string;
  readonly description: string;
  readonly required?: boolean;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Takes all remaining words (joined with spaces). */
  readonly rest?: boolean;
}

export interface CommandSpec {
  /** "query", or "tenant create" for a subcommand. */
  readonly name: string;
  readonly summary: string;
  /** Longer text printed under the usage line. */
  readonly details?: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
}

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose --help to point at ("" for the top level). */
    readonly command: string,
  ) {
    super(message);
  }
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: Readonly<Record<string, string | undefined>>;
  readonly help: boolean;
}

const HELP_OPTION = { type: 'boolean', short: 'h', description: 'show this help' } as const;

export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  const options = { ...spec.options, help: HELP_OPTION };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }])),
    }) as typeof parsed;
  } catch (e) {
    throw new UsageError(describeParseError(e, Object.keys(options)), spec.name);
  }
  if (parsed.values.help) return { values: parsed.values, positionals: {}, help: true };

  const specs = spec.positionals ?? [];
  const positionals: Record<string, string | undefined> = {};
  const words = [...parsed.positionals];
  for (const p of specs) positionals[p.name] = p.rest ? words.splice(0).join(' ').trim() || undefined : words.shift();
  if (words.length > 0) throw new UsageError(`unexpected argument "${words[0]}"`, spec.name);
  for (const p of specs) {
    if (p.required && !positionals[p.name]) throw new UsageError(`missing <${p.name}>: ${p.description}`, spec.name);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.required && (parsed.values[name] === undefined || parsed.values[name] === '')) {
      throw new UsageError(`--${name} is required${o.value ? ` (e.g. --${name} ${exampleValue(spec, name) ?? o.value})` : ''}`, spec.name);
    }
  }
  return { values: parsed.values, positionals, help: false };
}

/** The value of `--name` in the command's first example that uses it. */
function exampleValue(spec: CommandSpec, name: string): string | undefined {
  for (const ex of spec.examples) {
    const m = new RegExp(`--${name}[ =]([^ '"]+)`).exec(ex);
    if (m) return m[1];
  }
  return undefined;
}

function describeParseError(e: unknown, known: readonly string[]): string {
  const err = e as { code?: string; message?: string };
  const message = String(err.message ?? e).split('\n')[0];
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const bare = (option ?? '').replace(/^-+/, '').split('=')[0];
      const guess = bare ? suggest(bare, known) : undefined;
      const hint = guess ? ` (did you mean --${guess}?)` : '';
      return `unknown option ${option ?? ''}${hint}`.trim();
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(message)) return `${option ?? 'an option'} needs a value`;
      if (/does not take an argument/.test(message)) return `${option ?? 'a flag'} does not take a value`;
      return message;
    default:
      return message;
  }
}

export function commandHelp(spec: CommandSpec): string {
  const pos = (spec.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`));
  const lines = [`Usage: strata ${spec.name}${Object.keys(spec.options).length ? ' [options]' : ''}${pos.length ? ` ${pos.join(' ')}` : ''}`, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${pad(p.required ? `<${p.name}>` : `[${p.name}]`)}${p.description}`);
  }
  lines.push('', 'Options:');
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION as OptionSpec })) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    lines.push(`  ${pad(flag)}${o.description}${o.required ? ' (required)' : ''}`);
  }
  lines.push('', spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

function pad(text: string, width = 28): string {
  return text.length >= width ? `${text}\n${' '.repeat(width + 2)}` : text.padEnd(width);
}
