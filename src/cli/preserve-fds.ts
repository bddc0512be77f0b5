// --preserve-fds N for create, run and exec: runc's parse and its check that fds 3..3+N-1
// are really there, so a missing one is an error rather than a hole in the container's fds.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import type { FlagValue } from './args';

// Why fd is not one the caller passed, or undefined. Node's own fds take the lowest free
// numbers, right where an unpassed preserved fd would be, and Node marks inherited fds
// close-on-exec at start-up, so neither "open" nor FD_CLOEXEC tells the two apart. The first
// fd Node keeps is the epoll fd of its platform's event loop, so that is what fills the first
// hole: an epoll fd in the range means the caller passed fewer.
function notPassed(fd: number): string | undefined {
  let link: string;
  try {
    link = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `stat /proc/self/fd/${fd}: no such file or directory`;
  }
  return link === 'anon_inode:[eventpoll]' ? `fd ${fd} was not passed to skiff` : undefined;
}

export function preserveFds(value: FlagValue | undefined): number {
  const n = Number(value ?? 0);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError('usage', `invalid --preserve-fds ${JSON.stringify(value)}`);
  for (let i = 0; i < n; i++) {
    const why = notPassed(3 + i);
    if (why) throw new SkiffError('usage', `unable to stat preserved-fd ${i} (of ${n}): ${why}`);
  }
  return n;
}
