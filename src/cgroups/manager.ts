// The one interface the rest of Skiff has to cgroups, in the manner of crun's cgroup manager
// table and youki's libcgroups: a driver per hierarchy kind (v1 with its hybrid cgroup2
// companion, v2, and systemd over either) behind `Cgroups`, picked from the record kept in state.json.
// Nothing outside src/cgroups knows which driver it holds.
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceRule, Resources } from '../oci/spec';
import type { ApplyOptions } from './writer';
import { detectLayout, ownCgroups } from './layout';
import { cgroupRecord } from './paths';

// What state.json keeps: enough to find the container's cgroups again from any command.
export type CgroupRecord = V1Record | V2Record | NoneRecord | SystemdRecord;

export interface V1Record {
  kind: 'v1';
  // hierarchy name (controller or "name=systemd") -> directory
  dirs: Record<string, string>;
  // hybrid hosts: the container's directory in the cgroup2 tree beside the v1 hierarchies
  unified?: string;
}

export interface V2Record {
  kind: 'v2';
  // absent only where the host has no cgroup2 mount at all
  unified?: string;
}

// --systemd-cgroup: a transient scope systemd made; `fs` is the scope's directories, which
// the cgroupfs driver of that kind works on.
export interface SystemdRecord {
  kind: 'systemd';
  unit: string;
  slice: string;
  fs: V1Record | V2Record;
}

// rootless without the right to make cgroups: the container stays in the runtime's (none.ts)
export interface NoneRecord {
  kind: 'none';
}

export interface OomWatch {
  close(): void;
}

// How the config's "cgroup" mount shows the container its cgroups; launch/mounts.ts turns it
// into mount entries.
export type CgroupView =
  // a cgroup2 mount of its own, rooted at the container's cgroup by its cgroup namespace
  | { type: 'cgroup2' }
  // the container's cgroup2 directory, bound
  | { type: 'bind'; dir?: string }
  // a tmpfs holding a read-only bind of the container's directory in each hierarchy, at the
  // hierarchy's names ("cpu,cpuacct", "systemd")
  | { type: 'hierarchies'; dirs: { dir: string; name: string }[] };

export interface Cgroups {
  readonly record: CgroupRecord;
  // Makes the container's cgroups, remembering what it made so undo() removes exactly that.
  create(): void;
  undo(): void;
  // A directory fd for clone3(CLONE_INTO_CGROUP), so the init never runs outside its cgroup;
  // undefined where the driver places it with join() instead. The caller closes it.
  cloneIntoFd(): number | undefined;
  // Places a process that clone did not place, before it runs (v1; v2 on a kernel without
  // CLONE_INTO_CGROUP, where the addon clones without it).
  join(pid: number): void;
  // linux.resources, devices included, in runc's order; every error names the field.
  applyResources(r: Resources | undefined, opts?: ApplyOptions): void;
  // `update`: only what `r` names, device rules left alone, messages start with "update".
  update(r: Resources): void;
  // The device rules (the config's, then runc's defaults).
  setDevices(rules: DeviceRule[] | undefined): void;
  // Returns once the kernel reports every task frozen.
  freeze(): void;
  // A freezer already gone (a create cut short, a delete resumed) has nothing to thaw.
  thaw(): void;
  isFrozen(): boolean;
  // Every pid in the container's cgroup and below it.
  pids(): number[];
  // runc's types.Stats (events --stats).
  stats(): Record<string, unknown>;
  // Calls onOom for each OOM kill in the container's cgroup, onGone once the cgroup is gone.
  watchOom(onOom: () => void, onGone: () => void): OomWatch;
  // Whether the kernel OOM-killed something in the container: lets a failed create say
  // "container init was OOM-killed (memory limit too low?)" as runc does.
  oomKilled(): boolean;
  mountView(newCgroupNs: boolean): CgroupView;
  // Removes the container's cgroups, children first; returns the directories still busy.
  destroy(): string[];
}

// Where a new container's cgroups go on this host (runc's cgroupsPath rules; with
// --systemd-cgroup, its slice:prefix:name rules). Rootless without a cgroupsPath, where the
// user may not create them (nothing delegated), none, as runc's rootless manager does; an
// explicit cgroupsPath is always made or fails.
export function planCgroup(cgroupsPath: string | undefined, id: string, opts: { rootless?: boolean; systemd?: boolean } = {}): CgroupRecord {
  if (opts.systemd) {
    const sd = require('./systemd/unit') as typeof import('./systemd/unit');
    return sd.systemdRecord(detectLayout(), cgroupsPath, id);
  }
  const rec = cgroupRecord(detectLayout(), ownCgroups(), cgroupsPath, id);
  if (opts.rootless && cgroupsPath === undefined && !mayCreate(rec)) return { kind: 'none' };
  return rec;
}
// Whether every directory of the record exists or could be made: its nearest existing
// ancestor is writable by us.
function mayCreate(rec: CgroupRecord): boolean {
  const dirs = rec.kind === 'v1' ? [...Object.values(rec.dirs), ...(rec.unified ? [rec.unified] : [])] : rec.kind === 'v2' && rec.unified ? [rec.unified] : [];
  return dirs.every((d) => {
    let cur = d;
    while (!fs.existsSync(cur)) cur = path.dirname(cur);
    try {
      fs.accessSync(cur, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// The drivers, by the record's kind. Each is loaded only when asked for, so a command pays
// for the one it uses.
type Drivers = { [K in CgroupRecord['kind']]: (r: Extract<CgroupRecord, { kind: K }>) => Cgroups };
const DRIVERS: Drivers = {
  v1: (r) => new (require('./v1/cgroups') as typeof import('./v1/cgroups')).V1Cgroups(r),
  v2: (r) => new (require('./v2/cgroups') as typeof import('./v2/cgroups')).V2Cgroups(r),
  none: (r) => new (require('./none') as typeof import('./none')).NoCgroups(r),
  systemd: (r) => new (require('./systemd/cgroups') as typeof import('./systemd/cgroups')).SystemdCgroups(r),
};

// Whether this build has a driver of that kind (`skiff features` says so from here).
export const hasDriver = (kind: string): boolean => kind in DRIVERS;

// The driver for a record. A state without one (it has no cgroups) gets an empty v2 record:
// nothing to freeze, list or remove.
export function cgroupsFor(rec: CgroupRecord | undefined): Cgroups {
  const r: CgroupRecord = rec ?? { kind: 'v2' };
  return (DRIVERS[r.kind] as (r: CgroupRecord) => Cgroups)(r);
}

const isStrings = (o: unknown): o is Record<string, string> =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && Object.values(o).every((v) => typeof v === 'string');

// The record as state.json holds it. Records written before the drivers kept the cgroup2
// directory under the key "" of `dirs` ({kind, dirs: {'': dir, ...}}): they are converted,
// so a container made before an upgrade can still be deleted. Throws on anything else.
export function parseCgroupRecord(v: unknown): CgroupRecord {
  const bad = () => new Error('not a cgroup record');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad();
  const o = v as Record<string, unknown>;
  if (o.kind === 'systemd') {
    if (typeof o.unit !== 'string' || typeof o.slice !== 'string') throw bad();
    const inner = parseCgroupRecord(o.fs);
    if (inner.kind === 'systemd' || inner.kind === 'none') throw bad();
    return { kind: 'systemd', unit: o.unit, slice: o.slice, fs: inner };
  }
  if (o.dirs !== undefined && !isStrings(o.dirs)) throw bad();
  if (o.unified !== undefined && typeof o.unified !== 'string') throw bad();
  const { '': oldUnified, ...dirs } = (o.dirs ?? {}) as Record<string, string>;
  const unified = (o.unified as string | undefined) ?? oldUnified;
  const tail = unified !== undefined ? { unified } : {};
  if (o.kind === 'v1' && o.dirs !== undefined) return { kind: 'v1', dirs, ...tail };
  if (o.kind === 'v2') return { kind: 'v2', ...tail };
  if (o.kind === 'none') return { kind: 'none' };
  throw bad();
}
