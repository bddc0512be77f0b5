// The terminal half of a plan, shared by create and exec: with a console socket the pty master
// goes there; without one it comes back to us over a private socket pair so that `run` or
// `exec -t` can relay it, sized like our own terminal unless the process says otherwise.
import { native } from '../native';
import type { NativePlan } from '../native';
import type { Process } from '../oci/spec';

export interface Console {
  // our end of the private pair, to receive the master from (relay only)
  relayEnd?: number;
  // every fd opened here, for the caller to close on failure
  fds: number[];
}

export function attachConsole(plan: NativePlan, proc: Process, consoleSocket: string | undefined): Console {
  if (!proc.terminal) return { fds: [] };
  plan.terminal = true;
  plan.consoleRows = proc.consoleSize?.height ?? (consoleSocket ? undefined : process.stdout.rows);
  plan.consoleCols = proc.consoleSize?.width ?? (consoleSocket ? undefined : process.stdout.columns);
  if (consoleSocket) {
    plan.consoleFd = native().connectUnix(consoleSocket);
    return { fds: [plan.consoleFd] };
  }
  const [ours, theirs] = native().socketPair();
  plan.consoleFd = theirs;
  return { relayEnd: ours, fds: [ours, theirs] };
}
