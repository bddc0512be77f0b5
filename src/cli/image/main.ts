// `skiff image ...` in process, for the tests and for embedders: the same parser and command
// modules as bin/skiff, output to `io`, an error as one `skiff image CMD: message` line.
import { parse, usage } from '../args';
import { COMMANDS, GLOBAL_FLAGS } from '../commands';
import { redirect } from '../output';
import type { Sink } from '../output';
import { DEFAULT_ROOT, Store } from '../../container/store';
import type { Invocation } from '../main';

const stdio: Sink = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) };

export async function imageMain(argv: string[], io: Sink = stdio): Promise<number> {
  let name = 'image';
  redirect(io);
  try {
    const p = parse(['image', ...argv], GLOBAL_FLAGS, COMMANDS);
    if (p.help || !p.command) {
      io.out(usage(GLOBAL_FLAGS, COMMANDS, p.command));
      return 0;
    }
    name = p.command.name;
    const run = (p.command.load?.() as { default: (inv: Invocation) => unknown }).default;
    await run({ globals: { root: DEFAULT_ROOT, logFormat: 'text' }, store: new Store(DEFAULT_ROOT), flags: p.flags, args: p.args });
    return 0;
  } catch (e) {
    io.err(`skiff ${name}: ${(e as Error).message ?? String(e)}\n`);
    if (process.env.SKIFF_DEBUG && (e as Error).stack) io.err((e as Error).stack + '\n');
    return 1;
  } finally {
    redirect(undefined);
  }
}

if (require.main === module) {
  imageMain(process.argv.slice(2)).then((c) => process.exit(c));
}
