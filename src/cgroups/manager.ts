// One interface over the cgroup hierarchies: make the container's cgroup, place the init,
// apply resources, freeze, list and remove. What is stored in state.json is the record.
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceRule } from '../oci/spec';
import { SkiffError, errnoText } from '../errors';
import { cgroupDirs } from './paths';
import { detectLayout, ownCgroups } from './layout';
import { effectiveRules, ruleLine } from './devices';

export interface CgroupRecord {
  kind: 'v1' | 'v2';
  // hierarchy name -> directory ("" is the cgroup2 one)
  dirs: Record<string, string>;
}

export function planCgroup(cgroupsPath: string | undefined, id: string): CgroupRecord {
  const layout = detectLayout();
  return { kind: layout.kind, dirs: cgroupDirs(layout, ownCgroups(), cgroupsPath, id) };
}

function uniqueDirs(rec: CgroupRecord): string[] {
  return [...new Set(Object.values(rec.dirs))];
}

// A new v1 cpuset starts with no cpus and no mems, and refuses tasks (ENOSPC) until they are
// set: take the parent's, as runc does.
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = path.join(dir, f);
    if (fs.readFileSync(file, 'utf8').trim() === '') fs.writeFileSync(file, fs.readFileSync(path.join(path.dirname(dir), f)));
  }
}

// v2: a controller's files appear in a cgroup only when every ancestor lists it in
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
export function enableControllers(dir: string): void {
  const root = detectLayout().unified;
  if (!root || !(dir + '/').startsWith(root + '/')) return;
  const rel = path.relative(root, dir).split(path.sep).filter(Boolean);
  let cur = root;
  for (let i = 0; i < rel.length && fs.existsSync(cur); i++) {
    enableIn(cur);
    cur = path.join(cur, rel[i]);
  }
}

export class CgroupManager {
  private made: string[] = [];

  constructor(readonly record: CgroupRecord) {}

  // Creates every directory that is missing and remembers which, so a failed create removes
  // exactly what it made.
  create(): void {
    for (const dir of uniqueDirs(this.record)) {
      const missing: string[] = [];
      for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
      const unified = this.record.kind === 'v2' && dir === this.record.dirs[''];
      if (unified) enableControllers(dir);
      for (const d of missing) {
        try {
          fs.mkdirSync(d);
        } catch (e) {
          throw new SkiffError(`cgroup: mkdir ${d}: ${errnoText(e as NodeJS.ErrnoException)}`);
        }
        this.made.push(d);
        if (unified && d !== dir) enableIn(d);
        if (dir === this.record.dirs['cpuset']) inheritCpuset(d);
      }
    }
  }

  // Undoes create() after a failed create.
  undo(): void {
    for (const d of this.made.reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        // someone else put something there: leave it
      }
    }
    this.made = [];
  }

  // v2: a directory fd for clone3(CLONE_INTO_CGROUP), so the init never runs outside it.
  openUnifiedFd(): number | undefined {
    if (this.record.kind !== 'v2') return undefined;
    const dir = this.record.dirs[''];
    return dir ? fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : undefined;
  }

  // v1 (and hybrid): the parent writes the init's pid before letting it run.
  join(pid: number): void {
    if (this.record.kind === 'v2') return;
    for (const dir of uniqueDirs(this.record)) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  }

  applyDevices(rules: DeviceRule[] | undefined): void {
    if (this.record.kind !== 'v1') return;
    const dir = this.record.dirs['devices'];
    if (!dir) return;
    for (const r of effectiveRules(rules)) {
      fs.writeFileSync(path.join(dir, r.allow ? 'devices.allow' : 'devices.deny'), ruleLine(r));
    }
  }

  private freezerFile(): [string, string, string] | undefined {
    if (this.record.kind === 'v1') {
      const dir = this.record.dirs['freezer'];
      return dir ? [path.join(dir, 'freezer.state'), 'FROZEN', 'THAWED'] : undefined;
    }
    const dir = this.record.dirs[''];
    return dir ? [path.join(dir, 'cgroup.freeze'), '1', '0'] : undefined;
  }

  // Freezes every task and returns once the kernel says they all are (v1 passes through
  // FREEZING while tasks leave the kernel).
  freeze(): void {
    const f = this.freezerFile();
    if (!f) throw new Error('no freezer cgroup for this container');
    fs.writeFileSync(f[0], f[1]);
    const wait = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 1000 && !this.isFrozen(); i++) {
      if (this.record.kind === 'v1') fs.writeFileSync(f[0], f[1]);
      Atomics.wait(wait, 0, 0, 1);
    }
    if (!this.isFrozen()) throw new Error('the freezer did not freeze every task');
  }

  thaw(): void {
    const f = this.freezerFile();
    if (f) fs.writeFileSync(f[0], f[2]);
  }

  isFrozen(): boolean {
    try {
      if (this.record.kind === 'v1') {
        const dir = this.record.dirs['freezer'];
        return !!dir && fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
      }
      const dir = this.record.dirs[''];
      return /^frozen 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
    } catch {
      return false;
    }
  }

  // Whether the kernel OOM-killed something in the container's memory cgroup: lets a failed
  // create say "container init was OOM-killed (memory limit too low?)" as runc does.
  oomKilled(): boolean {
    try {
      const v1 = this.record.kind === 'v1';
      const dir = v1 ? this.record.dirs['memory'] : this.record.dirs[''];
      if (!dir) return false;
      const text = fs.readFileSync(path.join(dir, v1 ? 'memory.oom_control' : 'memory.events'), 'utf8');
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0) > 0;
    } catch {
      return false;
    }
  }

  // Every pid in the container's cgroup and below it.
  pids(): number[] {
    const dir = this.record.kind === 'v1'
      ? this.record.dirs['pids'] ?? this.record.dirs['freezer'] ?? this.record.dirs['memory'] ?? Object.values(this.record.dirs)[0]
      : this.record.dirs[''];
    const out: number[] = [];
    const walk = (d: string) => {
      let text = '';
      try {
        text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
      } catch {
        return;
      }
      for (const l of text.split('\n')) if (l) out.push(Number(l));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    };
    if (dir) walk(dir);
    return out;
  }

  // Removes the container's cgroups, children first. Returns the directories it could not
  // remove (still busy).
  destroy(): string[] {
    const left: string[] = [];
    const rm = (d: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) rm(path.join(d, e.name));
      try {
        fs.rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
      }
    };
    for (const dir of uniqueDirs(this.record)) rm(dir);
    return left;
  }
}
