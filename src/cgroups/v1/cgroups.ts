// The v1 driver (runc's fs): one directory per hierarchy, and on hybrid hosts the container's
// directory in the cgroup2 tree as well (runc places it there too).
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceRule, Resources } from '../../oci/spec';
import type { CgroupView, Cgroups, OomWatch, V1Record } from '../manager';
import type { ApplyOptions } from '../writer';
import { FsCgroups, addProcess, freezeAndWait, oomKills, writeUnlessGone } from '../fs';
import { writeDeviceRules } from './devices';
import { detectLayout } from '../layout';

// A new v1 cpuset starts with no cpus and no mems, and refuses tasks (ENOSPC) until they are
// set: every empty one from the hierarchy's root down to dir takes its parent's, as runc's
// cpusetEnsureParent does. Existing ancestors too: a pod cgroup made by a bare mkdir is empty.
function fillCpusets(dir: string): void {
  const mount = detectLayout().v1.get('cpuset');
  if (!mount || !(dir + '/').startsWith(mount + '/')) return;
  let cur = mount;
  for (const part of path.relative(mount, dir).split(path.sep).filter(Boolean)) {
    const parent = cur;
    cur = path.join(cur, part);
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const file = path.join(cur, f);
      if (fs.readFileSync(file, 'utf8').trim() === '') fs.writeFileSync(file, fs.readFileSync(path.join(parent, f)));
    }
  }
}

export class V1Cgroups extends FsCgroups<V1Record> implements Cgroups {
  protected dirs(): string[] {
    const { dirs, unified } = this.record;
    return [...new Set([...Object.values(dirs), ...(unified ? [unified] : [])])];
  }

  protected procsDir(): string | undefined {
    const d = this.record.dirs;
    return d['pids'] ?? d['freezer'] ?? d['memory'] ?? Object.values(d)[0] ?? this.record.unified;
  }

  private freezerState(): string | undefined {
    const dir = this.record.dirs['freezer'];
    return dir && path.join(dir, 'freezer.state');
  }

  create(): void {
    const cpuset = this.record.dirs['cpuset'];
    for (const dir of this.dirs()) this.makeDir(dir, () => {});
    if (cpuset) fillCpusets(cpuset);
  }

  // The init is placed by join(), before it runs.
  cloneIntoFd(): undefined {
    return undefined;
  }

  join(pid: number): void {
    for (const dir of this.dirs()) addProcess(dir, pid);
  }

  applyResources(r: Resources | undefined, opts: ApplyOptions = {}): void {
    (require('./resources') as typeof import('./resources')).applyResources(this, r, opts);
  }

  setDevices(rules: DeviceRule[] | undefined): void {
    writeDeviceRules(this.record.dirs['devices'], rules);
  }

  freeze(): void {
    freezeAndWait(this.freezerState(), 'FROZEN', () => this.isFrozen(), true);
  }

  thaw(): void {
    const file = this.freezerState();
    if (file) writeUnlessGone(file, 'THAWED');
  }

  isFrozen(): boolean {
    const file = this.freezerState();
    try {
      return !!file && fs.readFileSync(file, 'utf8').trim() === 'FROZEN';
    } catch {
      return false;
    }
  }

  stats(): Record<string, unknown> {
    return (require('./stats') as typeof import('./stats')).stats(this.record.dirs);
  }

  watchOom(onOom: () => void, onGone: () => void): OomWatch {
    return (require('./oom') as typeof import('./oom')).watchOom(this.record.dirs['memory'], onOom, onGone);
  }

  oomKilled(): boolean {
    const dir = this.record.dirs['memory'];
    try {
      return !!dir && oomKills(path.join(dir, 'memory.oom_control')) > 0;
    } catch {
      return false;
    }
  }

  // A tmpfs holding each hierarchy's directory, as runc gives it (combined mounts once, under
  // their joined names).
  mountView(): CgroupView {
    const byDir = new Map<string, string[]>();
    for (const [name, dir] of Object.entries(this.record.dirs)) {
      byDir.set(dir, [...(byDir.get(dir) ?? []), name.replace(/^name=/, '')]);
    }
    return { type: 'hierarchies', dirs: [...byDir].map(([dir, names]) => ({ dir, name: names.join(',') })) };
  }
}
