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

// mount_setattr(2)'s MOUNT_ATTR_* bits (linux/mount.h).
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, IDMAP: 0x100000, NOSYMFOLLOW: 0x200000,
} as const;

// The recursive words (runc's table): applied to the mount and every mount under it with
// mount_setattr(AT_RECURSIVE) once it is in place. word -> [attribute, set (true) or clear].
export const REC_ATTR_WORDS: Record<string, [number, boolean]> = {
  rro: [MOUNT_ATTR.RDONLY, true], rrw: [MOUNT_ATTR.RDONLY, false],
  rnosuid: [MOUNT_ATTR.NOSUID, true], rsuid: [MOUNT_ATTR.NOSUID, false],
  rnodev: [MOUNT_ATTR.NODEV, true], rdev: [MOUNT_ATTR.NODEV, false],
  rnoexec: [MOUNT_ATTR.NOEXEC, true], rexec: [MOUNT_ATTR.NOEXEC, false],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, true], rdiratime: [MOUNT_ATTR.NODIRATIME, false],
  rrelatime: [MOUNT_ATTR.RELATIME, true], rnorelatime: [MOUNT_ATTR.RELATIME, false],
  rnoatime: [MOUNT_ATTR.NOATIME, true], ratime: [MOUNT_ATTR.NOATIME, false],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, true], rnostrictatime: [MOUNT_ATTR.STRICTATIME, false],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, true], rsymfollow: [MOUNT_ATTR.NOSYMFOLLOW, false],
};

// Idmapped mounts (runtime-spec 1.2): `idmap` maps the mount itself, `ridmap` every mount
// under it too.
export const IDMAP_WORDS: Record<string, boolean> = { idmap: false, ridmap: true };

export const UNSUPPORTED_OPTIONS = new Set(['tmpcopyup']);

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string[];
  // mount_setattr(AT_RECURSIVE) after the mount: attributes to set and to clear
  recAttrSet: number;
  recAttrClr: number;
  // undefined: no idmap word; false: `idmap`; true: `ridmap`
  idmapRecursive?: boolean;
}

export function parseOptions(options: string[] | undefined, field: string): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  let recAttrSet = 0;
  let recAttrClr = 0;
  let idmapRecursive: boolean | undefined;
  const data: string[] = [];
  for (const o of options ?? []) {
    if (UNSUPPORTED_OPTIONS.has(o)) throw new SkiffError('config', `config.json: ${field}: mount option ${JSON.stringify(o)} is not supported by skiff yet`);
    const f = FLAG_WORDS[o];
    const r = REC_ATTR_WORDS[o];
    if (f) {
      flags = f[1] ? flags | f[0] : flags & ~f[0];
    } else if (r) {
      if (!r[1]) {
        recAttrClr |= r[0];
      } else {
        recAttrSet |= r[0];
        // An access-time mode is a field, not a bit: mount_setattr wants the whole field
        // cleared to set one (MOUNT_ATTR__ATIME), as runc does.
        if ((r[0] & MOUNT_ATTR.ATIME_MASK) === r[0]) recAttrClr |= MOUNT_ATTR.ATIME_MASK;
      }
    } else if (IDMAP_WORDS[o] !== undefined) {
      idmapRecursive = IDMAP_WORDS[o];
    } else if (PROPAGATION[o] !== undefined) {
      propagation = PROPAGATION[o];
    } else {
      data.push(o);
    }
  }
  return { flags, propagation, data, recAttrSet, recAttrClr, idmapRecursive };
}

