// runc's cgroupsPath rules (the fs drivers): an absolute path is taken from each hierarchy's
// root, a relative one from the runtime's own cgroup, and none means "<own cgroup>/<id>".
import * as path from 'path';
import type { Layout } from './layout';

export function cgroupDirs(layout: Layout, own: Map<string, string>, cgroupsPath: string | undefined, id: string): Record<string, string> {
  const rel = cgroupsPath ?? id;
  const under = (mount: string, name: string) =>
    path.join(mount, rel.startsWith('/') ? rel : path.join(own.get(name) ?? '/', rel));
  const dirs: Record<string, string> = {};
  if (layout.kind === 'v2') {
    if (layout.unified) dirs[''] = under(layout.unified, '');
    return dirs;
  }
  const seen = new Set<string>();
  for (const [name, mount] of layout.v1) {
    if (seen.has(mount)) {
      dirs[name] = under(mount, name);
      continue;
    }
    seen.add(mount);
    dirs[name] = under(mount, name);
  }
  // Hybrid hosts: runc places the container in the cgroup2 tree too.
  if (layout.unified) dirs[''] = under(layout.unified, '');
  return dirs;
}
