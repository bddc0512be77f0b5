// v2 OOM notifications: the oom_kill count of memory.events rises, and inotify reports the
// change.
import * as fs from 'fs';
import * as path from 'path';
import type { OomWatch } from '../manager';
import { oomKills } from '../fs';

export function watchOom(dir: string | undefined, onOom: () => void, onGone: () => void): OomWatch {
  if (!dir) throw new Error('no cgroup v2 directory: cannot watch for OOM');
  const file = path.join(dir, 'memory.events');
  let seen = oomKills(file);
  const w = fs.watch(file, () => {
    let now: number;
    try {
      now = oomKills(file);
    } catch {
      w.close();
      onGone();
      return;
    }
    for (; seen < now; seen++) onOom();
  });
  w.on('error', () => {
    w.close();
    onGone();
  });
  return { close: () => w.close() };
}
