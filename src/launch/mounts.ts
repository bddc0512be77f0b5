// OCI mount entries -> the native mount list: option words to MS_* flags, propagation and
// filesystem data, bind sources resolved against the bundle, the cgroup mount expanded as the
// container's cgroup driver shows it.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { NativeMount } from '../native';
import type { Mount } from '../oci/spec';
import type { Cgroups } from '../cgroups/manager';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

// word -> [flag, set (true) or clear (false)]
const FLAG_WORDS: Record<string, [number, boolean]> = {
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

const UNSUPPORTED_OPTIONS = new Set(['idmap', 'ridmap', 'tmpcopyup', 'rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec']);

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

const REMOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME |
  MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;

function bindMount(m: Mount, o: ParsedOptions, bundle: string, field: string): NativeMount {
  if (!m.source) throw new SkiffError('config', `config.json: ${field}.source: a bind mount needs a source`);
  const source = path.resolve(bundle, m.source);
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new SkiffError('config', `config.json: ${field}.source: mount source ${source} does not exist`);
  }
  const remount = o.flags & REMOUNT_FLAGS;
  return {
    source, destination: m.destination, flags: o.flags & MS.REC, propagation: o.propagation,
    remount, bind: true, sourceIsDir: st.isDirectory(),
  };
}

// The "cgroup" mount, as the cgroup driver says the container sees its cgroups.
function cgroupMounts(m: Mount, o: ParsedOptions, cgroups: Cgroups, newCgroupNs: boolean): NativeMount[] {
  const base = { propagation: 0, remount: 0, bind: false, sourceIsDir: true };
  const view = cgroups.mountView(newCgroupNs);
  if (view.type === 'cgroup2') return [{ ...base, source: 'cgroup2', destination: m.destination, fstype: 'cgroup2', flags: o.flags }];
  if (view.type === 'bind') {
    return [{ ...base, source: view.dir, destination: m.destination, flags: MS.REC, remount: o.flags & REMOUNT_FLAGS, bind: true }];
  }
  // The tmpfs itself stays writable, as runc leaves it; the hierarchies in it are read-only.
  return [
    { ...base, source: 'tmpfs', destination: m.destination, fstype: 'tmpfs', flags: o.flags & ~MS.RDONLY, data: 'mode=755' },
    ...view.dirs.map(({ dir, name }) => ({
      ...base, source: dir, destination: path.join(m.destination, name), flags: MS.REC,
      remount: (o.flags & REMOUNT_FLAGS) | MS.NOSUID | MS.NODEV | MS.NOEXEC, bind: true,
    })),
  ];
}

export function nativeMounts(mounts: Mount[] | undefined, bundle: string, cgroups: Cgroups, newCgroupNs: boolean): NativeMount[] {
  const out: NativeMount[] = [];
  (mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const o = parseOptions(m.options, field);
    const isBind = m.type === 'bind' || (o.flags & MS.BIND) !== 0;
    if (isBind) {
      out.push(bindMount(m, o, bundle, field));
    } else if (m.type === 'cgroup' || m.type === 'cgroup2') {
      out.push(...cgroupMounts(m, o, cgroups, newCgroupNs));
    } else {
      if (!m.type || m.type === 'none') throw new SkiffError('config', `config.json: ${field}.type: needed for a mount that is not a bind`);
      out.push({
        source: m.source ?? m.type, destination: m.destination, fstype: m.type, data: o.data.join(',') || undefined,
        flags: o.flags, propagation: o.propagation, remount: 0, bind: false, sourceIsDir: true,
      });
    }
  });
  return out;
}

// runc sets up /dev itself unless the config binds one in.
export function needsDevSetup(mounts: Mount[] | undefined): boolean {
  return !(mounts ?? []).some((m) => path.resolve('/', m.destination) === '/dev' &&
    (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}
