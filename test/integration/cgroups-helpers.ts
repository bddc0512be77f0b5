// Helpers for the cgroup tests: where a process's cgroup files are on this host, whichever
// hierarchy it has (v1/hybrid here, pure v2 in the test/vm guest).
import * as fs from 'fs';
import * as path from 'path';
import { detectLayout, ownCgroups } from '../../src/cgroups/layout';

export const layout = () => detectLayout();
export const isV2 = () => detectLayout().kind === 'v2';

// The directory of `pid`'s cgroup for a v1 controller (or the v2 one).
export function cgroupDirOf(pid: number, ctrl: string): string | undefined {
  const l = detectLayout();
  const own = ownCgroups(`/proc/${pid}/cgroup`);
  if (l.kind === 'v2') return l.unified ? path.join(l.unified, own.unified ?? '/') : undefined;
  const mount = l.v1.get(ctrl);
  const rel = own.v1.get(ctrl);
  return mount && rel !== undefined ? path.join(mount, rel) : undefined;
}

// The controller a file belongs to, by its name ("memory.max" -> memory, "cpuacct.usage" -> cpuacct).
export const ctrlOf = (file: string) => file.split('.')[0];

export function readCg(pid: number, file: string): string | undefined {
  const dir = cgroupDirOf(pid, ctrlOf(file));
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

// A block device of this machine (major:minor) for throttle rules, if it has one.
export function blockDevice(): { major: number; minor: number } | undefined {
  try {
    for (const e of fs.readdirSync('/sys/dev/block')) {
      const [major, minor] = e.split(':').map(Number);
      // whole disks only: partitions and zram/loop devices refuse throttles less often, but a
      // disk is what a user would throttle
      if (fs.existsSync(`/sys/dev/block/${e}/partition`)) continue;
      const name = fs.realpathSync(`/sys/dev/block/${e}`).split('/').pop() ?? '';
      if (/^(loop|ram|zram)/.test(name)) continue;
      return { major, minor };
    }
  } catch {
    // no /sys/dev/block
  }
  return undefined;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Waits until f() is truthy or the time is up; returns the last value.
export function waitFor<T>(f: () => T, ms = 10_000, step = 50): T {
  const end = Date.now() + ms;
  let v = f();
  while (!v && Date.now() < end) {
    sleepMs(step);
    v = f();
  }
  return v;
}
