// What the cgroupfs drivers (v1, v2) do alike: directories made and removed, processes listed,
// the freezer's wait, the kernel's OOM kill counter. Each driver says which directories.
import * as fs from 'fs';
import * as path from 'path';
import type { Resources } from '../oci/spec';
import type { CgroupRecord } from './manager';
import type { ApplyOptions } from './writer';
import { SkiffError, errnoText } from '../errors';

// The "oom_kill N" line of memory.oom_control (v1) and memory.events (v2). Throws when the
// file cannot be read (no memory controller, the cgroup removed).
export function oomKills(file: string): number {
  const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// Writes a freezer file, unless the cgroup is gone already.
export function writeUnlessGone(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

// Freezes and returns once the kernel says every task is. `again`: v1 passes through
// FREEZING while tasks leave the kernel, and wants the request repeated.
export function freezeAndWait(file: string | undefined, value: string, frozen: () => boolean, again: boolean): void {
  if (!file) throw new Error('no freezer cgroup for this container');
  fs.writeFileSync(file, value);
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 1000 && !frozen(); i++) {
    if (again) fs.writeFileSync(file, value);
    Atomics.wait(wait, 0, 0, 1);
  }
  if (!frozen()) throw new Error('the freezer did not freeze every task');
}

// Puts pid into the cgroup at dir, in runc's words when it cannot ("error adding pid ...": what
// runc's tests and callers of exec --cgroup match).
export function addProcess(dir: string, pid: number): void {
  const file = path.join(dir, 'cgroup.procs');
  try {
    fs.writeFileSync(file, String(pid));
  } catch (e) {
    throw new SkiffError('setup', `error adding pid ${pid} to cgroups: failed to write ${pid}: open ${file}: ${errnoText(e as NodeJS.ErrnoException)}`);
  }
}

// The part of a cgroupfs driver that does not depend on the version.
export abstract class FsCgroups<R extends CgroupRecord> {
  private made: string[] = [];

  constructor(readonly record: R) {}

  // Every directory of the container, once each (combined v1 mounts share one).
  protected abstract dirs(): string[];
  // The directory whose cgroup.procs lists the container's processes.
  protected abstract procsDir(): string | undefined;

  abstract applyResources(r: Resources | undefined, opts?: ApplyOptions): void;

  // Makes dir and whatever is missing above it, remembering each so a failed create removes
  // exactly what it made. onNew sees each new directory, the top one first.
  protected makeDir(dir: string, onNew: (d: string) => void): void {
    const missing: string[] = [];
    for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      try {
        fs.mkdirSync(d);
      } catch (e) {
        throw new SkiffError('setup', `cgroup: mkdir ${d}: ${errnoText(e as NodeJS.ErrnoException)}`);
      }
      this.made.push(d);
      onNew(d);
    }
  }

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

  update(r: Resources): void {
    this.applyResources(r, { file: 'update', base: '', skipDevices: true });
  }

  pids(): number[] {
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
    const dir = this.procsDir();
    if (dir) walk(dir);
    return out;
  }

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
    for (const dir of this.dirs()) rm(dir);
    return left;
  }
}
