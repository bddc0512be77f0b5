// runc's systemd naming (libcontainer/cgroups/systemd/common.go, specconv): cgroupsPath is
// "slice:prefix:name"; an empty slice is system.slice, an empty or absent path is
// ":skiff:<id>" (runc's is ":runc:<id>"); the unit is "<prefix>-<name>.scope" unless name is a
// slice itself (refused here). The cgroup is the slice's expansion (a-b.slice -> /a.slice/a-b.slice) under
// each hierarchy's root, then the unit.
import * as path from 'path';
import { SkiffError } from '../../errors';
import type { Layout } from '../layout';
import type { SystemdRecord } from '../manager';

export const DEFAULT_SLICE = 'system.slice';
export const DEFAULT_PREFIX = 'skiff';

export interface UnitName {
  // the slice the scope goes in (Slice=)
  slice: string;
  // the transient unit: "<prefix>-<name>.scope"
  unit: string;
}

const bad = (why: string) => new SkiffError('config', `config.json: linux.cgroupsPath: ${why}`);

export function unitName(cgroupsPath: string | undefined, id: string): UnitName {
  let slice = '';
  let prefix = DEFAULT_PREFIX;
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) {
      throw bad(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
    }
    [slice, prefix, name] = parts;
  }
  if (name === '' || name.includes('/')) throw bad(`invalid unit name ${JSON.stringify(name)} in ${JSON.stringify(cgroupsPath)}`);
  if (slice !== '') expandSlice(slice); // refused here, before anything is made
  // runc can make the container a slice of its own (for kubelet's pod slices); a slice holds
  // no processes, so Skiff refuses it rather than make a unit the init cannot be put in.
  if (name.endsWith('.slice')) throw bad(`a slice (${name}) cannot hold the container's processes: name a scope`);
  const unit = `${prefix}-${name}.scope`;
  return { slice: slice || DEFAULT_SLICE, unit };
}

// runc's ExpandSlice: "test-a-b.slice" -> "/test.slice/test-a.slice/test-a-b.slice", "-.slice" -> "/".
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  const invalid = () => bad(`invalid slice name: ${slice}`);
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw invalid();
  const base = slice.slice(0, -suffix.length);
  if (base === '-') return '/';
  let out = '';
  let prefix = '';
  for (const component of base.split('-')) {
    if (component === '') throw invalid();
    out += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return out;
}

// The record of a container's unit: the unit and its cgroup directories in each hierarchy.
export function systemdRecord(layout: Layout, cgroupsPath: string | undefined, id: string): SystemdRecord {
  const { slice, unit } = unitName(cgroupsPath, id);
  const rel = path.join(expandSlice(slice), unit);
  const unified = layout.unified ? { unified: path.join(layout.unified, rel) } : {};
  if (layout.kind === 'v2') return { kind: 'systemd', unit, slice, fs: { kind: 'v2', ...unified } };
  const dirs: Record<string, string> = {};
  for (const [name, mount] of layout.v1) dirs[name] = path.join(mount, rel);
  return { kind: 'systemd', unit, slice, fs: { kind: 'v1', dirs, ...unified } };
}
