// Which cgroup hierarchies this host has, where they are mounted, and where we stand in them.
import * as fs from 'fs';

export interface Layout {
  // 'v2': unified only. 'v1': v1 controllers (with a cgroup2 mount beside them: hybrid).
  kind: 'v1' | 'v2';
  // v1: hierarchy name (controller or "name=systemd") -> mount point. Combined mounts such as
  // cpu,cpuacct list each controller with the same mount point.
  v1: Map<string, string>;
  // cgroup2 mount point: /sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid, if any.
  unified?: string;
}

let cached: Layout | undefined;

export function detectLayout(mountinfo = '/proc/self/mountinfo'): Layout {
  if (cached && mountinfo === '/proc/self/mountinfo') return cached;
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of fs.readFileSync(mountinfo, 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    const mountPoint = fields[4];
    if (fstype === 'cgroup2') {
      if (!unified || mountPoint === '/sys/fs/cgroup') unified = mountPoint;
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (['rw', 'ro', 'relatime', 'noprefix', 'clone_children', 'xattr'].includes(opt)) continue;
        if (opt.startsWith('release_agent=')) continue;
        if (!v1.has(opt)) v1.set(opt, mountPoint);
      }
    }
  }
  const layout: Layout = { kind: v1.size > 0 ? 'v1' : 'v2', v1, unified };
  if (mountinfo === '/proc/self/mountinfo') cached = layout;
  return layout;
}

// Where a process stands in each hierarchy (/proc/PID/cgroup).
export interface OwnCgroups {
  // v1 hierarchy name -> path
  v1: Map<string, string>;
  // the path in the cgroup2 hierarchy (the "0::" line)
  unified?: string;
}

export function ownCgroups(file = '/proc/self/cgroup'): OwnCgroups {
  const own: OwnCgroups = { v1: new Map() };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') own.unified = m[2];
    else for (const name of m[1].split(',')) own.v1.set(name, m[2]);
  }
  return own;
}
