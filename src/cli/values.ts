// Flag values with runc's parses and words: sizes, durations, --preserve-fds.
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

// --preserve-fds N for create, run and exec: runc's parse and its check that fds 3..3+N-1
// are really there, so a missing one is an error rather than a hole in the container's fds.
export function preserveFds(value: FlagValue | undefined): number {
  const n = Number(value ?? 0);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError('usage', `invalid --preserve-fds ${JSON.stringify(value)}`);
  for (let i = 0; i < n; i++) {
    const why = notPassed(3 + i);
    if (why) throw new SkiffError('usage', `unable to stat preserved-fd ${i} (of ${n}): ${why}`);
  }
  return n;
}

// docker/go-units RAMInBytes: "64m", "1.5GiB", "512k", plain bytes.
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

// Go's time.ParseDuration for the units runc users write: "5s", "100ms", "1m30s", "1.5s".
export function parseDuration(s: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    ms += Number(m[1]) * unit[m[2]];
    end = re.lastIndex;
  }
  if (!s || end !== s.length) throw new SkiffError('usage', `invalid value "${s}" for flag -interval: parse error`);
  return ms;
}
