// A foreground run or exec: forward our signals to the process, relay its pty, and report the
// exit code a runtime reports for it (its status, 128+N for signal N).
import { native } from '../native';
import { logDebug } from '../log';

// Every signal Node lets us catch; the rest cannot be forwarded by any runtime.
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGPIPE',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ',
  'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP'] as const;

function forwardSignals(pid: number): void {
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
    // runc: level=debug msg="process exited" pid=N status=S
    if (status) logDebug('process exited', { pid, status: status.code ?? 128 + (status.signal ?? 0) });
    return status === null ? 255 : status.code !== null ? status.code : 128 + (status.signal ?? 0);
  });
}
