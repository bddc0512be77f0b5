// The v2 driver (runc's fs2): one directory in the unified hierarchy, the init cloned into it.
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceRule, Resources } from '../../oci/spec';
import type { CgroupView, Cgroups, OomWatch, V2Record } from '../manager';
import type { ApplyOptions } from '../writer';
import { detectLayout } from '../layout';
import { SkiffError, errnoText } from '../../errors';
import { FsCgroups, addProcess, freezeAndWait, oomKills, writeUnlessGone } from '../fs';

// A controller's files appear in a cgroup only when every ancestor lists it in
// cgroup.subtree_control. Like runc (fs2.CreateCgroupPath), enable every controller the root
// offers in each ancestor of the container's cgroup, one at a time, ignoring refusals (a
// cgroup with processes of its own cannot delegate domain controllers): a resource whose
// controller stays off fails later with a message naming the field.
function enableIn(cur: string): void {
  let available: string[];
  let enabled: Set<string>;
  try {
    available = fs.readFileSync(path.join(cur, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    enabled = new Set(fs.readFileSync(path.join(cur, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/));
  } catch {
    return;
  }
  for (const c of available) {
    if (enabled.has(c)) continue;
    try {
      fs.writeFileSync(path.join(cur, 'cgroup.subtree_control'), `+${c}`);
    } catch {
      // refused (internal processes, or not delegated): see above
    }
  }
}

// Enables controllers in the existing ancestors of dir (the root included).
function enableControllers(dir: string): void {
  const root = detectLayout().unified;
  if (!root || !(dir + '/').startsWith(root + '/')) return;
  const rel = path.relative(root, dir).split(path.sep).filter(Boolean);
  let cur = root;
  for (let i = 0; i < rel.length && fs.existsSync(cur); i++) {
    enableIn(cur);
    cur = path.join(cur, rel[i]);
  }
}

export class V2Cgroups extends FsCgroups<V2Record> implements Cgroups {
  protected dirs(): string[] {
    return this.record.unified ? [this.record.unified] : [];
  }

  protected procsDir(): string | undefined {
    return this.record.unified;
  }

  private file(name: string): string | undefined {
    return this.record.unified && path.join(this.record.unified, name);
  }

  create(): void {
    const dir = this.record.unified;
    if (!dir) return;
    enableControllers(dir);
    this.makeDir(dir, (d) => { if (d !== dir) enableIn(d); });
  }

  cloneIntoFd(): number | undefined {
    const dir = this.record.unified;
    if (!dir) return undefined;
    try {
      return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      // A missing one (exec --cgroup into a sub-cgroup nobody made) is join()'s to report,
      // in runc's words with the pid: the child waits for GO and is killed without running.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SkiffError('setup', `error adding the process to cgroups: open ${dir}: ${errnoText(e as NodeJS.ErrnoException)}`);
    }
  }

  // clone3 placed it (cloneIntoFd), except on kernels without CLONE_INTO_CGROUP (before
  // 5.7), where the addon clones without it, or when the directory could not be opened:
  // then it is written here, before it runs.
  join(pid: number): void {
    const dir = this.record.unified;
    const root = detectLayout().unified;
    if (!dir || !root) return;
    const own = /^0::(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
    if (own !== undefined && path.join(root, own) === dir) return;
    addProcess(dir, pid);
  }

  applyResources(r: Resources | undefined, opts: ApplyOptions = {}): void {
    (require('./resources') as typeof import('./resources')).applyResources(this, r, opts);
  }

  // The BPF emulator is only for v2 hosts: v1 never loads it.
  setDevices(rules: DeviceRule[] | undefined): void {
    (require('./bpf') as typeof import('./bpf')).attachDeviceFilter(this.record.unified, rules);
  }

  freeze(): void {
    freezeAndWait(this.file('cgroup.freeze'), '1', () => this.isFrozen(), false);
  }

  thaw(): void {
    const file = this.file('cgroup.freeze');
    if (file) writeUnlessGone(file, '0');
  }

  isFrozen(): boolean {
    const file = this.file('cgroup.events');
    try {
      return !!file && /^frozen 1$/m.test(fs.readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  }

  stats(): Record<string, unknown> {
    return (require('./stats') as typeof import('./stats')).stats(this.record.unified ?? '');
  }

  watchOom(onOom: () => void, onGone: () => void): OomWatch {
    return (require('./oom') as typeof import('./oom')).watchOom(this.record.unified, onOom, onGone);
  }

  oomKilled(): boolean {
    const file = this.file('memory.events');
    try {
      return !!file && oomKills(file) > 0;
    } catch {
      return false;
    }
  }

  // Without a cgroup namespace of its own the container would see the host's whole tree in
  // a cgroup2 mount: it gets its own directory, bound, instead.
  mountView(newCgroupNs: boolean): CgroupView {
    return newCgroupNs ? { type: 'cgroup2' } : { type: 'bind', dir: this.record.unified };
  }
}
