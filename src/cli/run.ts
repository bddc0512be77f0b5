// run = create + start, then (unless -d) wait for the container with signals forwarded and
// exit with its status (128+N for signal N), deleting it afterwards unless --keep.
import { createContainer } from '../container/create';
import { destroyLocked, startContainer } from '../container/ops';
import { native } from '../native';
import { createRequest } from './create';
import type { Invocation } from './main';

// Every signal Node lets us catch; the rest cannot be forwarded by any runtime.
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGPIPE',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ',
  'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP'] as const;

export function forwardSignals(pid: number): void {
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    });
  }
}

// Forwards our signals to `pid`, relays its pty if it has one, and resolves with the exit
// code a runtime reports for it: its status, 128+N for signal N. Call it before the process
// can exit (run: before start), so no signal or output is missed.
export function supervise(pid: number, ptyMaster: number | undefined): Promise<number> {
  forwardSignals(pid);
  const exited = native().waitPid(pid);
  const relay = ptyMaster !== undefined ? (require('../container/terminal') as typeof import('../container/terminal')).relay(ptyMaster) : undefined;
  return exited.then(async (status) => {
    if (relay) await relay.finish();
    return status === null ? 255 : status.code !== null ? status.code : 128 + (status.signal ?? 0);
  });
}

export default async function run(inv: Invocation): Promise<void> {
  const s = inv.store;
  const id = inv.args[0];
  const { state, ptyMaster } = createContainer(s, { ...createRequest(inv), relayTerminal: !inv.flags.detach });
  if (inv.flags.detach) {
    try {
      startContainer(s, id);
    } catch (e) {
      destroyLocked(s, state, id);
      throw e;
    }
    return;
  }
  const exitCode = supervise(state.pid, ptyMaster);
  try {
    startContainer(s, id);
  } catch (e) {
    destroyLocked(s, state, id);
    throw e;
  }
  const code = await exitCode;
  // Someone may have deleted it meanwhile (kill + delete -f from another shell): that is fine.
  if (!inv.flags.keep) destroyLocked(s, state, id);
  process.exitCode = code;
}
