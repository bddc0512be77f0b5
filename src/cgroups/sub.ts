// exec --cgroup: the new process joins an existing sub-cgroup of the container's own, in
// runc's grammar ([<controller>[,<controller>...]:]<path>) and with runc's error words.
import * as path from 'path';
import { SkiffError } from '../errors';
import type { CgroupRecord } from './manager';

// controller -> path below the container's cgroup; the key '' means every hierarchy.
export type SubCgroupPaths = Map<string, string>;

// The --cgroup values as runc's exec reads them (getSubCgroupPaths): a plain path only as the
// one and only value, otherwise one controller list per value.
export function parseSubCgroupArgs(args: string[] | undefined): SubCgroupPaths | undefined {
  if (!args?.length) return undefined;
  const paths: SubCgroupPaths = new Map();
  for (const a of args) {
    const parts = a.split(':');
    if (parts.length > 2) throw new SkiffError('usage', `invalid --cgroup argument: ${a}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new SkiffError('usage', `invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      paths.set('', a);
    } else {
      for (const ctrl of parts[0].split(',')) paths.set(ctrl, parts[1]);
    }
  }
  return paths;
}

// base joined with sub, which must stay at or below base. runc compares string prefixes, so
// "../c1x" from "/c1" passes there; here the comparison is by whole path components.
function below(base: string, sub: string): string {
  // Go's path.Join: cleaned, no trailing slash.
  const joined = path.join(base, sub).replace(/(.)\/+$/, '$1');
  if (joined !== base && !joined.startsWith(base.endsWith('/') ? base : `${base}/`)) {
    throw new SkiffError('setup', `unable to create new parent process: ${sub} is not a sub cgroup path`);
  }
  return joined;
}

// The record of the cgroups an exec'd process joins: the container's, with each named
// hierarchy (all of them for '') moved down to its sub-cgroup. A v2 record has only ''.
export function subCgroupRecord(rec: CgroupRecord, paths: SubCgroupPaths): CgroupRecord {
  const all = paths.get('');
  // The scope's directories are cgroupfs ones: the sub-cgroup is below them.
  if (rec.kind === 'systemd') return { ...rec, fs: subCgroupRecord(rec.fs, paths) as typeof rec.fs };
  if (rec.kind === 'none') throw new SkiffError('setup', 'exec --cgroup: the container has no cgroups of its own (rootless, where the user may not create them)');
  if (rec.kind === 'v2') {
    for (const ctrl of paths.keys()) if (ctrl !== '') throw unknownController(ctrl);
    return { kind: 'v2', ...(rec.unified ? { unified: below(rec.unified, all!) } : {}) };
  }
  const dirs = { ...rec.dirs };
  let unified = rec.unified;
  if (all !== undefined) {
    for (const k of Object.keys(dirs)) dirs[k] = below(dirs[k], all);
    if (unified) unified = below(unified, all);
  } else {
    for (const [ctrl, sub] of paths) {
      const dir = rec.dirs[ctrl];
      if (dir === undefined) throw unknownController(ctrl);
      // A controller names its hierarchy: its co-mounted ones (cpu,cpuacct) move with it.
      for (const k of Object.keys(dirs)) if (rec.dirs[k] === dir) dirs[k] = below(dir, sub);
    }
  }
  return { kind: 'v1', dirs, ...(unified ? { unified } : {}) };
}

const unknownController = (ctrl: string) =>
  new SkiffError('setup', `unable to create new parent process: unknown controller ${ctrl} in SubCgroupPaths`);
