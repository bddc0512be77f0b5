// A table-driven command line parser with runc's grammar (urfave/cli): global flags, a
// command, its flags and positional arguments. Hand-written because it is on every command's
// start-up path; a general library costs more to load than the whole parse.
import { SkiffError } from '../errors';

export interface FlagSpec {
  long: string;          // "bundle"
  short?: string;        // "b"
  value?: string;        // the value's name; absent: a boolean flag
  default?: string;
  repeat?: boolean;      // may be given many times: the values collect in an array
  help: string;
}

export interface CommandSpec {
  name: string;
  aliases?: string[];
  args: string;          // "<container-id> [signal]", as shown in usage
  min: number;           // required positional arguments
  max: number;           // Infinity: the rest of the line is the command's (ps, exec)
  flags: FlagSpec[];
  help: string;
  // () => require('./create'): loaded only when the command runs, and a literal require so
  // that the bundle of bin/skiff holds every command. A group (image) has none: its
  // subcommands are what run.
  load?: () => unknown;
  subcommands?: CommandSpec[]; // a group (image): the next word picks one of these
  dashArgs?: boolean;    // what follows `--` is the command's own (run --image ID -- ARGS)
}

export type FlagValue = string | boolean | string[] | undefined;

export interface Parsed {
  global: Record<string, FlagValue>;
  command?: CommandSpec;
  flags: Record<string, FlagValue>;
  args: string[];
  /** After `--`, for a command with dashArgs. */
  rest?: string[];
  help: boolean;
}

export class UsageError extends SkiffError {
  constructor(message: string) {
    super('usage', message);
  }
}

// "pid-file" -> "pidFile"
export const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parseFlags(argv: string[], i: number, specs: FlagSpec[], out: Record<string, FlagValue>,
  stopAtPositional: boolean, positional: string[], max: number): [number, boolean] {
  let help = false;
  for (const f of specs) if (f.default !== undefined) out[camel(f.long)] = f.default;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      return [argv.length, help];
    }
    if (a.length < 2 || a[0] !== '-') {
      if (stopAtPositional) return [i, help];
      positional.push(a);
      i++;
      if (max === Infinity) {
        // The rest belongs to the command's own program (ps args, exec argv).
        positional.push(...argv.slice(i));
        return [argv.length, help];
      }
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (a.startsWith('--') ? 2 : 1));
    if (name === 'help' || name === 'h') {
      help = true;
      i++;
      continue;
    }
    const spec = specs.find((f) => f.long === name || f.short === name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (!spec.value) {
      out[camel(spec.long)] = eq < 0 ? true : a.slice(eq + 1) !== 'false';
      i++;
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = a.slice(eq + 1);
      i++;
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[i + 1];
      i += 2;
    }
    const key = camel(spec.long);
    if (spec.repeat) out[key] = [...((out[key] as string[] | undefined) ?? []), value];
    else out[key] = value;
  }
  return [i, help];
}

export function parse(argv: string[], globals: FlagSpec[], commands: CommandSpec[]): Parsed {
  const global: Parsed['global'] = {};
  const rest: string[] = [];
  let [i, help] = parseFlags(argv, 0, globals, global, true, rest, Infinity);
  const name = argv[i];
  if (name === undefined) return { global, flags: {}, args: [], help: help || !global.version };
  let command = commands.find((c) => c.name === name || c.aliases?.includes(name));
  if (!command) throw new UsageError(`No help topic for '${name}'`);
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  if (command.subcommands) {
    const sub = argv[i + 1];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return { global, command, flags, args, help: true };
    const found = command.subcommands.find((c) => c.name === sub || c.aliases?.includes(sub));
    if (!found) throw new UsageError(`No help topic for '${name} ${sub}'`);
    command = { ...found, name: `${command.name} ${found.name}` };
    i++;
  }
  [i, help] = parseFlags(argv, i + 1, command.flags, flags, false, args, command.max);
  // `--` still ends the flags (an id may start with '-'); what follows the arguments is the
  // command's own (run --image ID -- ARGS).
  const afterDashes = command.dashArgs && args.length > command.max && argv.includes('--') ? args.splice(command.max) : undefined;
  if (!help && (args.length < command.min || args.length > command.max)) {
    const n = command.min === command.max ? `exactly ${command.min}` : args.length < command.min ? `at least ${command.min}` : `at most ${command.max}`;
    throw new UsageError(`skiff: "${command.name}" requires ${n} argument(s)`);
  }
  return { global, command, flags, args, ...(afterDashes ? { rest: afterDashes } : {}), help };
}

function flagLines(flags: FlagSpec[]): string {
  const left = (f: FlagSpec) => [`--${f.long}${f.value ? ` ${f.value}` : ''}`, f.short ? `-${f.short}${f.value ? ` ${f.value}` : ''}` : '']
    .filter(Boolean).join(', ');
  const width = Math.max(...flags.map((f) => left(f).length)) + 2;
  return flags.map((f) => `   ${left(f).padEnd(width)}${f.help}${f.default && f.value ? ` (default: ${f.default})` : ''}`).join('\n');
}

// `version`: the VERSION section of the top-level help, as runc shows it.
export function usage(globals: FlagSpec[], commands: CommandSpec[], command?: CommandSpec, version?: string): string {
  if (command?.subcommands) {
    const subs = command.subcommands;
    const width = Math.max(...subs.map((c) => c.name.length)) + 2;
    return `NAME:\n   skiff ${command.name} - ${command.help}\n\nUSAGE:\n   skiff ${command.name} command [command options] [arguments...]\n\n` +
      `COMMANDS:\n${subs.map((c) => `   ${c.name.padEnd(width)}${c.help}`).join('\n')}\n`;
  }
  if (command) {
    return `NAME:\n   skiff ${command.name} - ${command.help}\n\nUSAGE:\n   skiff ${command.name} [command options] ${command.args}\n` +
      (command.flags.length ? `\nOPTIONS:\n${flagLines(command.flags)}\n` : '');
  }
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  // runc's layout: scripts read line 2 ("<name> - Open Container Initiative runtime").
  return 'NAME:\n   skiff - Open Container Initiative runtime\n\n' +
    'skiff is a command line client for running applications packaged according to the Open\n' +
    'Container Initiative (OCI) format; it takes runc\'s commands, flags and exit codes.\n\n' +
    'USAGE:\n   skiff [global options] command [command options] [arguments...]\n\n' +
    (version ? `VERSION:\n   ${version}\n` : '') +
    `COMMANDS:\n${commands.map((c) => `   ${c.name.padEnd(width)}${c.help}`).join('\n')}\n\n` +
    `GLOBAL OPTIONS:\n${flagLines([...globals, { long: 'help', short: 'h', help: 'show help' }])}\n`;
}
