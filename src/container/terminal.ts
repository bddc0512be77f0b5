// `run` in the foreground with a terminal: our stdin/stdout are relayed to the pty master,
// our terminal in raw mode, window-size changes passed on, as runc does.
import * as tty from 'tty';
import { native } from '../native';

export interface Relay {
  // Waits for what the container wrote before it exited, then restores our terminal.
  finish(): Promise<void>;
}

export function relay(masterFd: number): Relay {
  // Two handles on two fds: libuv cannot watch one fd from two handles.
  const fromMaster = new tty.ReadStream(masterFd);
  const toMaster = new tty.WriteStream(native().dup(masterFd));
  const stdin = process.stdin;
  const rawIn = tty.isatty(0);
  if (rawIn) (stdin as tty.ReadStream).setRawMode(true);
  const resize = () => native().setWinsize(masterFd, process.stdout.rows, process.stdout.columns);
  if (tty.isatty(1)) {
    resize();
    process.stdout.on('resize', resize);
  }
  stdin.pipe(toMaster);
  toMaster.on('error', () => undefined);
  fromMaster.pipe(process.stdout, { end: false });
  // EIO on the master is how a pty says its last slave closed.
  const drained = new Promise<void>((resolve) => {
    fromMaster.on('error', () => resolve());
    fromMaster.on('end', () => resolve());
    fromMaster.on('close', () => resolve());
  });
  return {
    async finish() {
      await drained;
      stdin.unpipe(toMaster);
      toMaster.destroy();
      if (rawIn) (stdin as tty.ReadStream).setRawMode(false);
      stdin.destroy();
      process.stdout.off('resize', resize);
    },
  };
}
