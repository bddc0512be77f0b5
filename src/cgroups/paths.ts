// runc's cgroupsPath rules (the fs drivers): an absolute path is taken from each hierarchy's
// root, a relative one from the runtime's own cgroup, and none means "<own cgroup>/<id>".
import * as path from 'path';
import type { Layout, OwnCgroups } from './layout';
import type { CgroupRecord } from './manager';

export function cgroupRecord(layout: Layout, own: OwnCgroups, cgroupsPath: string | undefined, id: string): CgroupRecord {
  const rel = cgroupsPath ?? id;
  const under = (mount: string, ownPath: string | undefined) =>
    path.join(mount, rel.startsWith('/') ? rel : path.join(ownPath ?? '/', rel));
  // Hybrid hosts: runc places the container in the cgroup2 tree too.
  const unified = layout.unified ? { unified: under(layout.unified, own.unified) } : {};
  if (layout.kind === 'v2') return { kind: 'v2', ...unified };
  const dirs: Record<string, string> = {};
  for (const [name, mount] of layout.v1) dirs[name] = under(mount, own.v1.get(name));
  return { kind: 'v1', dirs, ...unified };
}
