// The receiving end of --console-socket and --pidfd-socket (test/lib/fd-receiver.py), as
// containerd's shim serves them: one connection, one fd by SCM_RIGHTS, a name as payload.
import { spawn } from 'child_process';
import * as path from 'path';
import { REPO, tmpDir, waitFor } from './harness';

export interface FdReceiver {
  sock: string;
  // the complete lines it has printed so far ("LISTENING", "NAME ...", then its mode's own)
  lines: string[];
  // all it printed, once it has exited (killed after `ms` if it has not); \r removed
  output(ms?: number): Promise<string>;
  stop(): void;
}

// console: `arg` is typed into the pty; pidfd: `arg` is a signal to send by the pidfd.
export async function fdReceiver(mode: 'console' | 'pidfd', arg?: string): Promise<FdReceiver> {
  const sock = path.join(tmpDir(`${mode}-sock`), 'sock');
  const child = spawn('python3', [path.join(REPO, 'test', 'lib', 'fd-receiver.py'), mode, sock, ...(arg ? [arg] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    lines.splice(0, lines.length, ...out.split('\n').slice(0, -1));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await waitFor(() => lines.includes('LISTENING'), 10_000, `${mode} socket listening`);
  return {
    sock,
    lines,
    output: async (ms = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
      clearTimeout(timer);
      child.kill();
      return out.replace(/\r/g, '');
    },
    stop: () => { child.kill(); },
  };
}
