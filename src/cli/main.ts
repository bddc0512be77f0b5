// skiff's entry point: parse, then load only the module of the command that runs.
import { SkiffError } from '../errors';
import { configureLog, logError } from '../log';
import { Store } from '../container/store';
import { parse, usage, UsageError } from './args';
import type { FlagValue } from './args';
import { COMMANDS, GLOBAL_FLAGS } from './commands';
import { out } from './output';
import { defaultRoot } from '../rootless';

import { versionText } from './version';

export interface Globals {
  root: string;
  rootless?: string;
  log?: string;
  logFormat: string;
  debug?: boolean;
  systemdCgroup?: boolean;
}

// What every command module's default export receives.
export interface Invocation {
  globals: Globals;
  store: Store;
  flags: Record<string, FlagValue>;
  args: string[];
  /** What followed `--` (run/create --image: the command to run instead of the image's). */
  rest?: string[];
}

export async function main(argv: string[]): Promise<number> {
  let prefix = '';
  let failureCode = 1;
  try {
    const p = parse(argv, GLOBAL_FLAGS, COMMANDS);
    const globals = p.global as unknown as Globals;
    globals.root = globals.root ?? defaultRoot();
    if (globals.logFormat !== 'text' && globals.logFormat !== 'json') throw new UsageError(`invalid log format ${JSON.stringify(globals.logFormat)}`);
    configureLog(globals);
    if (!p.command) {
      out(p.help ? usage(GLOBAL_FLAGS, COMMANDS, undefined, versionText().replace(/^skiff version /, '')) : versionText());
      return 0;
    }
    if (p.help) {
      out(usage(GLOBAL_FLAGS, COMMANDS, p.command));
      return 0;
    }
    if (p.command.name === 'create' || p.command.name === 'run') prefix = `skiff ${p.command.name} failed: `;
    if (p.command.name.startsWith('image ')) prefix = `skiff ${p.command.name}: `;
    // runc's exec fails with 255, so a caller can tell its own errors from the process's.
    if (p.command.name === 'exec') {
      prefix = 'exec failed: ';
      failureCode = 255;
    }
    const mod = p.command.load?.() as { default: (inv: Invocation) => unknown } | undefined;
    if (!mod) throw new UsageError(`skiff: "${p.command.name}" needs a subcommand`);
    await mod.default({ globals, store: new Store(globals.root), flags: p.flags, args: p.args, rest: p.rest });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const err = e as Error;
    logError(prefix + (err.message ?? String(e)));
    if (!(e instanceof SkiffError) && process.env.SKIFF_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return failureCode !== 1 ? failureCode : e instanceof SkiffError ? e.exitCode : 1;
  }
}
