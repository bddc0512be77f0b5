// run = create + start, then (unless -d) wait for the container with signals forwarded and
// exit with its status (128+N for signal N), deleting it afterwards unless --keep.
import type { Command } from 'commander';
import * as os from 'os';
import { createContainer } from '../container/create';
import { destroy, loadContainer, startContainer } from '../container/ops';
import { native } from '../native';
import { createRequest, CreateFlags } from './create';
import { store } from './main';

// Every signal Node lets us catch; the rest cannot be forwarded by any runtime.
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGPIPE',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ',
  'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP'] as const;

export default async function run(program: Command, id: string, o: CreateFlags & { detach?: boolean; keep?: boolean }): Promise<void> {
  const s = store(program);
  const state = createContainer(s, createRequest(id, o));
  if (o.detach) {
    try {
      startContainer(s, id);
    } catch (e) {
      destroy(s, loadContainer(s, id, false));
      throw e;
    }
    return;
  }
  const pid = state.pid;
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    });
  }
  const exited = native().waitPid(pid);
  try {
    startContainer(s, id);
  } catch (e) {
    destroy(s, loadContainer(s, id, false));
    throw e;
  }
  const status = await exited;
  if (!o.keep) destroy(s, loadContainer(s, id, false));
  const signals = os.constants.signals as Record<string, number>;
  void signals;
  process.exitCode = status === null ? 255 : status.code !== null ? status.code : 128 + (status.signal ?? 0);
}
