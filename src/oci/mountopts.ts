// Mount option words as the runtime-spec (and mount(8)) write them, and what each means to
// mount(2): read by the mount planner (src/launch/mounts.ts) and by `skiff features`.
import { SkiffError } from '../errors';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

// word -> [flag, set (true) or clear (false)]
export const FLAG_WORDS: Record<string, [number, boolean]> = {
  async: [MS.SYNCHRONOUS, false], atime: [MS.NOATIME, false], bind: [MS.BIND, true], defaults: [0, true],
  dev: [MS.NODEV, false], diratime: [MS.NODIRATIME, false], dirsync: [MS.DIRSYNC, true], exec: [MS.NOEXEC, false],
  mand: [MS.MANDLOCK, true], noatime: [MS.NOATIME, true], nodev: [MS.NODEV, true], nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true], nomand: [MS.MANDLOCK, false], norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false], nosuid: [MS.NOSUID, true], rbind: [MS.BIND | MS.REC, true],
  relatime: [MS.RELATIME, true], remount: [MS.REMOUNT, true], ro: [MS.RDONLY, true], rw: [MS.RDONLY, false],
  strictatime: [MS.STRICTATIME, true], suid: [MS.NOSUID, false], sync: [MS.SYNCHRONOUS, true],
  nosymfollow: [MS.NOSYMFOLLOW, true], symfollow: [MS.NOSYMFOLLOW, false], lazytime: [MS.LAZYTIME, true],
  nolazytime: [MS.LAZYTIME, false],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export const UNSUPPORTED_OPTIONS = new Set(['idmap', 'ridmap', 'tmpcopyup', 'rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec']);

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string[];
}

export function parseOptions(options: string[] | undefined, field: string): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options ?? []) {
    if (UNSUPPORTED_OPTIONS.has(o)) throw new SkiffError('config', `config.json: ${field}: mount option ${JSON.stringify(o)} is not supported by skiff yet`);
    const f = FLAG_WORDS[o];
    if (f) flags = f[1] ? flags | f[0] : flags & ~f[0];
    else if (PROPAGATION[o] !== undefined) propagation = PROPAGATION[o];
    else data.push(o);
  }
  return { flags, propagation, data };
}

