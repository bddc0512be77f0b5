// skiff's entry point. Parses global flags and dispatches; each command's module is loaded
// only when that command runs, so `skiff state` does not pay for `run`.
import { Command, Option } from 'commander';
import { SkiffError } from '../errors';
import { configureLog, logError } from '../log';
import { DEFAULT_ROOT, Store } from '../container/store';
import { out } from './output';

export interface Globals {
  root: string;
  log?: string;
  logFormat?: string;
  debug?: boolean;
  systemdCgroup?: boolean;
  rootless?: string;
}

export const VERSION = '0.1.0';

let failurePrefix = '';

function store(program: Command): Store {
  return new Store((program.opts() as Globals).root);
}

type Action = (program: Command, ...args: any[]) => unknown | Promise<unknown>;
// Wraps a lazily required command module's default export.
function lazy(program: Command, mod: string, prefix = ''): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    failurePrefix = prefix;
    const fn = (require(mod) as { default: Action }).default;
    await fn(program, ...args.slice(0, -1));
  };
}

export function buildProgram(): Command {
  const program = new Command('skiff');
  program
    .description('a low-level OCI container runtime')
    .option('--root <dir>', 'root directory for storage of container state', DEFAULT_ROOT)
    .option('--log <file>', 'set the log file to write runtime errors to')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'enable debug logging')
    .option('--systemd-cgroup', 'use systemd for cgroups (slice:prefix:name paths)')
    .option('--rootless <value>', 'ignore cgroup permission errors (true, false or auto)', 'auto')
    .option('--criu <path>', 'accepted for runc compatibility; checkpointing is not supported')
    .option('-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError(false)
    // Global flags go before the command, as with runc (`spec --rootless` is spec's own).
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', () => configureLog(program.opts() as Globals));

  program.command('create <id>').description('create a container')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'unix socket to receive the pty master')
    .option('--pid-file <file>', 'file to write the init pid to')
    .option('--no-pivot', 'do not use pivot_root to jail the process (MS_MOVE + chroot)')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors (3 ...) to the container', '0')
    .action(lazy(program, './create', 'skiff create failed: '));

  program.command('run <id>').description('create and run a container')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'unix socket to receive the pty master')
    .option('-d, --detach', 'detach from the container process')
    .option('--keep', 'do not delete the container after it exits')
    .option('--pid-file <file>', 'file to write the init pid to')
    .option('--no-subreaper', 'accepted for runc compatibility')
    .option('--no-pivot', 'do not use pivot_root to jail the process (MS_MOVE + chroot)')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors (3 ...) to the container', '0')
    .action(lazy(program, './run', 'skiff run failed: '));

  program.command('start <id>').description('start the user process of a created container')
    .action(lazy(program, './start'));
  program.command('state <id>').description('print the state of a container')
    .action(lazy(program, './state'));
  program.command('list').alias('ls').description('list containers')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'print only the ids')
    .action(lazy(program, './list'));
  program.command('kill <id> [signal]').description('send a signal to the container init (default SIGTERM)')
    .option('-a, --all', 'send the signal to every process of the container')
    .action(lazy(program, './kill'));
  program.command('delete <id>').alias('rm').description('delete a container and what it holds')
    .option('-f, --force', 'kill the container first if it is running')
    .action(lazy(program, './delete'));
  program.command('pause <id>').description('freeze every process of a container')
    .action(lazy(program, './pause'));
  program.command('resume <id>').description('thaw a paused container')
    .action(lazy(program, './resume'));
  program.command('ps <id> [psArgs...]').description('list the processes of a container')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(lazy(program, './ps'));
  program.command('spec').description('write a default config.json')
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootless', 'a spec for a rootless container')
    .action(lazy(program, './spec'));
  program.command('features').description('print the features this runtime supports (JSON)')
    .action(lazy(program, './features'));
  program.command('image', { hidden: false }).description('the image layer store: import, pull, bundle, ls, inspect, rm, prune')
    .allowUnknownOption(true).helpOption(false).argument('[args...]')
    .action(lazy(program, './image'));
  // No command: --version, or help.
  program.action(() => {
    if ((program.opts() as { version?: boolean }).version) out(versionText());
    else program.outputHelp();
  });
  return program;
}

export { store };

function versionText(): string {
  return `skiff version ${VERSION}\ncommit: ${process.env.SKIFF_COMMIT ?? 'unknown'}\nspec: 1.2.0\n`;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    out(versionText());
    return 0;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code?.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 1;
    }
    if (e instanceof SkiffError) {
      logError(failurePrefix + e.message);
      return e.exitCode;
    }
    logError(failurePrefix + (err.message ?? String(e)));
    if ((program.opts() as Globals).debug && err.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
